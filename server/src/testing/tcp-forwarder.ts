import net from 'node:net';

/** A forwarder started by {@link startTcpForwarder}. */
export interface TcpForwarder {
  /** The local port it listens on (127.0.0.1). */
  port: number;
  /** Cuts every open connection at once (a reset), as a failing network or proxy would; new ones are still taken. */
  cut(): void;
  /** Stops listening (new connections are refused) and cuts the open ones: the database is unreachable. */
  close(): Promise<void>;
}

/**
 * A TCP forwarder from a free local port to `host:port` (PostgreSQL in tests), whose connections can be cut
 * and which can be stopped: what a restart of the database, a failover or a cut network does to the server.
 */
export async function startTcpForwarder(host: string, port: number): Promise<TcpForwarder> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(port, host);
    sockets.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const drop = () => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = () => {
    for (const socket of sockets) socket.resetAndDestroy();
    sockets.clear();
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    cut,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        cut();
      }),
  };
}
