//! Shared SSE plumbing: bytes → `eventsource-stream` events → a provider decoder → items.

use std::collections::VecDeque;

use bytes::Bytes;
use eventsource_stream::{EventStreamError, Eventsource};
use futures::{Stream, StreamExt, stream};

use crate::events::{LlmError, LlmEvent};

/// A pure, incremental decoder from SSE events to provider-neutral items.
pub trait SseDecoder: Send + 'static {
    /// Decodes one SSE event (`event:` name, possibly empty, and joined `data:` lines).
    fn feed(&mut self, event_name: &str, data: &str) -> Vec<Result<LlmEvent, LlmError>>;
    /// True once the response is complete or failed; the stream stops reading then.
    fn is_terminated(&self) -> bool;
    /// Called at end of input: an error if the response never completed.
    fn finish(&mut self) -> Option<LlmError>;
}

impl SseDecoder for crate::anthropic::AnthropicDecoder {
    fn feed(&mut self, event_name: &str, data: &str) -> Vec<Result<LlmEvent, LlmError>> {
        Self::feed(self, event_name, data)
    }
    fn is_terminated(&self) -> bool {
        Self::is_terminated(self)
    }
    fn finish(&mut self) -> Option<LlmError> {
        Self::finish(self)
    }
}

/// Runs an SSE byte stream (any chunking) through `decoder`. Transport errors propagate as
/// items and end the stream; a premature end yields the decoder's `finish` error.
pub fn decode_with<S, B, D>(
    bytes: S,
    decoder: D,
) -> impl Stream<Item = Result<LlmEvent, LlmError>> + Send + 'static
where
    S: Stream<Item = Result<B, LlmError>> + Send + 'static,
    B: AsRef<[u8]> + Send + 'static,
    D: SseDecoder,
{
    // eventsource-stream drops a final event not followed by a blank line; terminate it.
    let bytes = bytes
        .map(|r| r.map(|b| Bytes::copy_from_slice(b.as_ref())))
        .chain(stream::once(async { Ok(Bytes::from_static(b"\n\n")) }));
    struct State<E, D> {
        events: E,
        decoder: D,
        pending: VecDeque<Result<LlmEvent, LlmError>>,
        ended: bool,
    }
    let state = State {
        events: Box::pin(bytes.eventsource()),
        decoder,
        pending: VecDeque::new(),
        ended: false,
    };
    stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.pending.pop_front() {
                return Some((item, st));
            }
            if st.ended {
                return None;
            }
            match st.events.next().await {
                Some(Ok(ev)) => {
                    st.pending.extend(st.decoder.feed(&ev.event, &ev.data));
                    st.ended = st.decoder.is_terminated();
                }
                Some(Err(e)) => {
                    st.pending.push_back(Err(map_sse_error(e)));
                    st.ended = true;
                }
                None => {
                    st.pending.extend(st.decoder.finish().map(Err));
                    st.ended = true;
                }
            }
        }
    })
}

fn map_sse_error(e: EventStreamError<LlmError>) -> LlmError {
    match e {
        EventStreamError::Transport(e) => e,
        EventStreamError::Utf8(e) => LlmError::Decode(format!("invalid UTF-8 in stream: {e}")),
        EventStreamError::Parser(e) => LlmError::Decode(format!("invalid SSE: {e}")),
    }
}
