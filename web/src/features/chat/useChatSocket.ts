/**
 * The `/chat` Socket.IO connection. Pushes go through parse → the chat store's reducer; the
 * store sends through the transport registered here. On every (re)connect the current session
 * (if any) is joined again and its history replaces the transcript, so a reload or a network
 * blip never leaves a stale or half-streamed view. Auth, retries and sign-out: `lib/authedSocket`.
 */
import { useEffect } from "react";
import type { Socket } from "socket.io-client";
import { openAuthedSocket } from "../../lib/authedSocket";
import { useChatStore } from "../../stores/chat";
import { CHAT_EVENTS, parseServerEvent } from "./parse";

type ChatSocket = Socket<Record<string, (payload: unknown) => void>, Record<string, (payload: unknown, ack: (res: unknown) => void) => void>>;

export function useChatSocket(token: string): void {
  useEffect(() => {
    const store = useChatStore.getState;
    const { socket, dispose } = openAuthedSocket<ChatSocket>("/chat", token, {
      onConnect: () => {
        store().setConnected(true);
        const sessionId = store().sessionId;
        if (sessionId) store().join(sessionId);
      },
      onDisconnect: () => {
        store().setConnected(false);
        store().connectionLost();
      },
    });

    for (const name of CHAT_EVENTS) {
      socket.on(name, (payload: unknown) => {
        const ev = parseServerEvent(name, payload);
        if (ev) store().handle(ev);
      });
    }

    store().setTransport((event, payload, ack) => {
      socket.emit(event, payload, ack);
    });
    socket.connect();
    return () => {
      store().setTransport(null);
      store().setConnected(false);
      dispose();
    };
  }, [token]);
}
