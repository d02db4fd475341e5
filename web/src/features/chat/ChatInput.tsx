/**
 * The prompt: Enter sends, Shift+Enter is a newline; disabled while a turn runs (ABORT instead).
 * Typing `/` lists the server's slash commands.
 */
import { useState, type KeyboardEvent } from "react";
import { useChatStore } from "../../stores/chat";
import type { SlashCommand } from "./types";

const MAX_CHARS = 16_000;
const NO_COMMANDS: SlashCommand[] = [];

function matching(commands: SlashCommand[], text: string): SlashCommand[] {
  if (!text.startsWith("/") || text.includes("\n")) return [];
  const word = text.split(/\s/, 1)[0]?.toLowerCase() ?? "/";
  // Once a full command and a space are typed, keep showing just that one (its usage).
  return commands.filter((c) => (text.includes(" ") ? c.command.toLowerCase() === word : c.command.toLowerCase().startsWith(word)));
}

export function ChatInput() {
  const [text, setText] = useState("");
  const running = useChatStore((s) => s.running);
  const connected = useChatStore((s) => s.connected);
  const aborting = useChatStore((s) => s.aborting);
  const hasSession = useChatStore((s) => s.sessionId !== null);
  const send = useChatStore((s) => s.send);
  const abort = useChatStore((s) => s.abort);
  const commands = useChatStore((s) => s.status?.slashCommands ?? NO_COMMANDS);
  const hints = matching(commands, text);

  const submit = () => {
    if (send(text)) setText("");
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };

  return (
    <div className="chat-input">
      {hints.length > 0 && (
        <ul className="chat-slash" aria-label="Slash commands" data-testid="chat-slash-hints">
          {hints.map((c) => (
            <li key={c.command}>
              <button
                type="button"
                className="chat-slash__item"
                onClick={() => setText(`${c.command} `)}
                data-testid={`chat-slash-hint-${c.command.replace(/^\//, "")}`}
              >
                <span className="mono chat-slash__usage">{c.usage}</span>
                <span className="chat-slash__desc">{c.description}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="chat-input__row">
        <textarea
          className="input chat-input__box"
          rows={2}
          value={text}
          maxLength={MAX_CHARS}
          placeholder={connected ? "Ask J.A.R.V.I.S. — Enter sends, Shift+Enter for a new line, / for commands" : "Connecting to the chat…"}
          aria-label="Message"
          disabled={running || !connected}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          data-testid="chat-input"
        />
        {running ? (
          <button type="button" className="btn btn--danger" onClick={abort} disabled={aborting || !hasSession} aria-label="Abort the running answer" data-testid="chat-abort">
            {aborting && <span className="spinner" aria-hidden="true" />}
            ABORT
          </button>
        ) : (
          <button type="button" className="btn btn--primary" onClick={submit} disabled={!connected || text.trim() === ""} aria-label="Send message" data-testid="chat-send">
            SEND
          </button>
        )}
      </div>
    </div>
  );
}
