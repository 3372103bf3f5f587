/**
 * A TCP proxy the test controls, standing in for the network between a node and PostgreSQL.
 * `cut()` is a partition: every byte in either direction is dropped and new connections hang
 * (nothing is refused or reset, as when a link goes dark); `heal()` ends it for new connections.
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  cut(): void;
  heal(): void;
  /** Chunks PostgreSQL has sent back through this link so far: a node's queries being answered. */
  answersRelayed(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let partitioned = false;
  let answers = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (partitioned) return; // a dark link: the connection is never answered
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('data', (chunk) => {
      if (!partitioned) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (partitioned) return;
      answers++;
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () => {
      partitioned = true;
    },
    heal: () => {
      // Connections cut off stay dead (their bytes are lost, as after a real partition); new ones go through.
      partitioned = false;
      for (const s of sockets) s.destroy();
    },
    answersRelayed: () => answers,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
