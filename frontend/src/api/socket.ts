/** The one WebSocket follower: reconnects with a growing back-off until stopped or until a close is final. */

/**
 * `path` is read at each (re)connection, so it can carry where to resume (e.g. `?after=<seq>`).
 * Every frame is JSON; a malformed one is ignored. Returns a function that stops following.
 */
export function followSocket(path: () => string, onFrame: (data: unknown) => void, isFinal: (close: CloseEvent) => boolean): () => void {
  let socket: WebSocket | null = null;
  let stopped = false;
  let retry = 0;
  const open = () => {
    if (stopped) return;
    const proto = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${proto}://${window.location.host}${path()}`);
    socket.onmessage = (m) => {
      retry = 0;
      try {
        onFrame(JSON.parse(m.data as string));
      } catch {
        /* ignore a malformed frame */
      }
    };
    socket.onclose = (e) => {
      if (stopped || isFinal(e)) return;
      retry = Math.min(retry + 1, 6);
      window.setTimeout(open, 250 * 2 ** retry);
    };
  };
  open();
  return () => {
    stopped = true;
    socket?.close();
  };
}
