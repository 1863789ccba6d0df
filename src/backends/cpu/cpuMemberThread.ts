// A member thread of a CPU population in a browser (started by browserThreads.ts): answers its
// population's requests with a group of members (memberGroup.ts) until it is ended. Its first message
// says it listens. (Node's member threads serve the same way, in nodeThreads.ts.)

import { type GroupReply, type GroupRequest, serveMemberGroup } from './memberGroup.js';

// The project's lib is DOM (not WebWorker); a dedicated worker's scope posts like a port.
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<GroupRequest>) => void) | null;
  postMessage(message: GroupReply | 'listening', transfer: Transferable[]): void;
};

serveMemberGroup({
  post: (message, transfer) => scope.postMessage(message, transfer),
  listen: (onRequest) => {
    scope.onmessage = (event) => onRequest(event.data);
  },
});
scope.postMessage('listening', []);
