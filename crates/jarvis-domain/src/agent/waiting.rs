//! The turn's waiting and its time: the confirmations it waits for, when it must be woken, what
//! a tick past an expiry means, and how a decision resumes it.
//!
//! A call that needs the operator gets a [`Wait`] (record id, expiry). The machine then asks the
//! server to announce it, to read it once (it may have been decided before the machine knew of
//! it) and to wake it at the earliest expiry of the records it still waits for. News about a
//! record ([`Input::ConfirmationChanged`], or [`Input::Resync`] after lost
//! news) makes it ask for the record to be read; only a final state read back
//! ([`Input::Confirmation`]) answers the call. A tick at or after a record's expiry makes it ask
//! for the record to be expired — not to answer "expired" by itself, because an operator may
//! have approved it a moment earlier and it may be executing: the store decides, and what it
//! says comes back as [`Input::Confirmation`] like any decision.
//!
//! [`Input::ConfirmationChanged`]: super::Input::ConfirmationChanged
//! [`Input::Resync`]: super::Input::Resync
//! [`Input::Confirmation`]: super::Input::Confirmation

use chrono::{DateTime, Utc};

use super::{ConfirmationOutcome, Effect, ToolResultStatus, Turn, blocked_text, result_text};

/// A confirmation a call waits for.
#[derive(Debug, Clone)]
pub(super) struct Wait {
    pub(super) confirmation_id: String,
    expires_at: DateTime<Utc>,
    /// The machine asked for it to be expired; it is not woken for it again.
    expiring: bool,
}

impl Turn {
    /// Unanswered calls that wait for a confirmation, in call order: (call id, wait).
    fn waiting(&self) -> impl Iterator<Item = (&str, &Wait)> {
        self.calls
            .iter()
            .filter(|c| c.answer.is_none())
            .filter_map(|c| c.wait.as_ref().map(|w| (c.id.as_str(), w)))
    }

    /// The call waiting for `confirmation_id`, if any.
    fn waiting_for(&self, confirmation_id: &str) -> Option<String> {
        self.waiting().find(|(_, w)| w.confirmation_id == confirmation_id).map(|(id, _)| id.into())
    }

    /// Call `id` needs the operator: announce it, read it once, and make sure the turn is woken at
    /// its expiry.
    pub(super) fn await_confirmation(
        &mut self,
        id: &str,
        confirmation_id: String,
        expires_at: DateTime<Utc>,
    ) -> Vec<Effect> {
        match self.calls.iter_mut().find(|c| c.id == id && c.answer.is_none()) {
            Some(call) if call.wait.is_none() => {
                call.wait = Some(Wait {
                    confirmation_id: confirmation_id.clone(),
                    expires_at,
                    expiring: false,
                });
            }
            _ => return vec![],
        }
        // Read it once right away: it may have been decided before the machine knew of it (news
        // about an unknown record is ignored).
        let read = Effect::ReadConfirmation { confirmation_id: confirmation_id.clone() };
        let announce = Effect::AwaitConfirmation { id: id.to_owned(), confirmation_id, expires_at };
        let mut effects = vec![announce, read];
        effects.extend(self.rewake());
        effects
    }

    /// A record changed somewhere: read it if the turn waits for it.
    pub(super) fn confirmation_changed(&self, confirmation_id: &str) -> Vec<Effect> {
        match self.waiting_for(confirmation_id) {
            Some(_) => {
                vec![Effect::ReadConfirmation { confirmation_id: confirmation_id.to_owned() }]
            }
            None => vec![],
        }
    }

    /// News may have been lost: read every awaited record.
    pub(super) fn resync(&self) -> Vec<Effect> {
        self.waiting()
            .map(|(_, w)| Effect::ReadConfirmation { confirmation_id: w.confirmation_id.clone() })
            .collect()
    }

    /// The time is `now`: ask for every awaited record past its expiry to be expired.
    pub(super) fn tick(&mut self, now: DateTime<Utc>) -> Vec<Effect> {
        let mut effects = Vec::new();
        for call in self.calls.iter_mut().filter(|c| c.answer.is_none()) {
            if let Some(w) = call.wait.as_mut().filter(|w| !w.expiring && w.expires_at <= now) {
                w.expiring = true;
                effects.push(Effect::ExpireConfirmation {
                    confirmation_id: w.confirmation_id.clone(),
                });
            }
        }
        effects.extend(self.rewake());
        effects
    }

    /// A record the turn waits for reached a final state: answer its call, and go on when that
    /// was the last open one.
    pub(super) fn decided(
        &mut self,
        confirmation_id: &str,
        outcome: ConfirmationOutcome,
    ) -> Vec<Effect> {
        let Some(id) = self.waiting_for(confirmation_id) else {
            return vec![];
        };
        let (content, status) = match outcome {
            ConfirmationOutcome::Executed(out) => (out, ToolResultStatus::Ok),
            ConfirmationOutcome::Failed(e) => (e, ToolResultStatus::Error),
            ConfirmationOutcome::Blocked(reason) => {
                (blocked_text(&reason), ToolResultStatus::Blocked)
            }
            ConfirmationOutcome::Denied => (
                format!(
                    "{} the operator denied this action. It did not run; do not retry it unless \
                     the operator asks again.",
                    result_text::DENIED
                ),
                ToolResultStatus::Denied,
            ),
            ConfirmationOutcome::Expired => (
                format!(
                    "{} nobody confirmed this action in time. It did not run.",
                    result_text::EXPIRED
                ),
                ToolResultStatus::Expired,
            ),
        };
        let mut effects = self.answer(&id, content, status);
        effects.extend(self.rewake());
        effects.extend(self.maybe_continue());
        effects
    }

    /// Abort: every awaited record is cancelled so that it cannot run later.
    pub(super) fn cancel_waits(&mut self) -> Vec<Effect> {
        self.wake = None;
        self.waiting()
            .map(|(_, w)| Effect::CancelConfirmation { confirmation_id: w.confirmation_id.clone() })
            .collect()
    }

    /// Asks to be woken at the earliest expiry still ahead, when that changed.
    fn rewake(&mut self) -> Option<Effect> {
        let next = self.waiting().filter(|(_, w)| !w.expiring).map(|(_, w)| w.expires_at).min();
        if next == self.wake {
            return None;
        }
        // With nothing left to expire the last request is simply left to lapse: a tick with
        // nothing due does nothing.
        self.wake = next;
        next.map(Effect::WakeAt)
    }
}
