// Sends N chat messages over the real /chat Socket.IO namespace and waits for each turn's
// chat:done (used by bench-demo-rss.sh). Env: URL, TOKEN.
import { createRequire } from "node:module";
const require = createRequire(new URL("../../web/package.json", import.meta.url));
const { io } = require("socket.io-client");

const n = Number(process.argv[2] ?? 3);
const socket = io(`${process.env.URL}/chat`, { auth: { token: process.env.TOKEN }, transports: ["websocket"] });
const messages = ["what is the cluster status", "list vms", "how is the storage", "hello there", "list vms"];
let sessionId;
const done = () => new Promise((resolve) => socket.once("chat:done", resolve));
await new Promise((resolve, reject) => {
  socket.on("connect", resolve);
  socket.on("connect_error", reject);
});
for (let i = 0; i < n; i++) {
  const finished = done();
  const ack = await socket.emitWithAck("chat:send", { sessionId, message: messages[i % messages.length] });
  sessionId = ack.sessionId ?? sessionId;
  await finished;
}
socket.close();
