package dev.thoughtstream.emitter.telegram;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A server that accepts connections, reads what the client writes, and never answers: the "request arrived,
 * answer lost" case that only a read timeout ends. The emulator always answers, hence this stand-in.
 */
final class SilentServer implements AutoCloseable {
    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Socket> connections = new CopyOnWriteArrayList<>();
    private final AtomicLong bytesRead = new AtomicLong();

    SilentServer() {
        try {
            server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        acceptor = new Thread(this::acceptAndListen, "silent-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** Bytes of requests received so far: proof that a request was on the wire. */
    long bytesRead() {
        return bytesRead.get();
    }

    private void acceptAndListen() {
        byte[] buffer = new byte[8192];
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                connections.add(socket);
                InputStream in = socket.getInputStream();
                // Reads until the client gives up and closes; one connection at a time is all the tests need.
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    bytesRead.addAndGet(n);
                }
            } catch (IOException e) {
                // The client hung up, or close() closed the sockets: either way, the next accept decides.
                if (server.isClosed()) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : connections) {
            socket.close();
        }
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
