using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>
/// A session-preserving proxy in front of the test server, as Neon's direct endpoint is: one server
/// connection per client connection for its whole life, every byte passed on, except that the
/// client is given a cancel key of the proxy's own (BackendKeyData with another process id), as
/// proxies that handle cancel requests themselves do. Through it, Npgsql's <c>ProcessID</c> is not
/// the server's <c>pg_backend_pid()</c>, and no server process has that id. It answers TLS and GSS
/// encryption requests with "no" itself and does not pass cancel requests on.
/// </summary>
public sealed class CancelKeyProxy : IAsyncDisposable
{
    private const int SslRequest = 80877103;
    private const int GssEncRequest = 80877104;
    private const int CancelRequest = 80877102;

    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stopping = new();
    private readonly string serverHost;
    private readonly int serverPort;
    private readonly Task accepting;

    private CancelKeyProxy(string connectionString)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        serverHost = target.Host!;
        serverPort = target.Port;
        listener.Start();
        ConnectionString = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Host = "127.0.0.1", Port = ((IPEndPoint)listener.LocalEndpoint).Port,
        }.ConnectionString;
        accepting = AcceptAsync();
    }

    /// <summary><paramref name="connectionString"/> with its host and port replaced by the proxy's.</summary>
    public string ConnectionString { get; }

    /// <summary>The process id the proxy gives every client instead of the backend's: above any Linux pid_max (2^22).</summary>
    private static int FakeProcessId(int backendPid) => (1 << 23) + backendPid;

    /// <summary>Starts a proxy to the server of <paramref name="connectionString"/>.</summary>
    public static CancelKeyProxy Start(string connectionString) => new(connectionString);

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        await accepting;
        stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        using var server = new TcpClient();
        try
        {
            await server.ConnectAsync(serverHost, serverPort, stopping.Token);
            client.NoDelay = server.NoDelay = true; // each message passed on at once, as a real proxy does
            var fromClient = client.GetStream();
            var toServer = server.GetStream();

            // The startup packets (a length, then a code or a protocol version, no type byte).
            while (true)
            {
                var length = new byte[4];
                await fromClient.ReadExactlyAsync(length, stopping.Token);
                var body = new byte[BinaryPrimitives.ReadInt32BigEndian(length) - 4];
                await fromClient.ReadExactlyAsync(body, stopping.Token);
                var code = BinaryPrimitives.ReadInt32BigEndian(body);
                if (code is SslRequest or GssEncRequest)
                {
                    await fromClient.WriteAsync("N"u8.ToArray(), stopping.Token);
                    continue;
                }

                if (code == CancelRequest)
                {
                    return; // its key is the proxy's, which the server never issued
                }

                await toServer.WriteAsync(length, stopping.Token);
                await toServer.WriteAsync(body, stopping.Token);
                break;
            }

            await Task.WhenAny(fromClient.CopyToAsync(toServer, stopping.Token), ToClientAsync(toServer, fromClient));
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or EndOfStreamException or ObjectDisposedException)
        {
            // A side closed: so does the other (the usings).
        }
    }

    /// <summary>The server's messages (a type byte, a length), the BackendKeyData ('K') rewritten.</summary>
    private async Task ToClientAsync(Stream fromServer, Stream toClient)
    {
        var reading = new BufferedStream(fromServer, 65536);
        var header = new byte[5];
        while (true)
        {
            await reading.ReadExactlyAsync(header, stopping.Token);
            var body = new byte[BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1)) - 4];
            await reading.ReadExactlyAsync(body, stopping.Token);
            if (header[0] == (byte)'K')
            {
                BinaryPrimitives.WriteInt32BigEndian(body, FakeProcessId(BinaryPrimitives.ReadInt32BigEndian(body)));
                BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(4), ~BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(4)));
            }

            await toClient.WriteAsync(header, stopping.Token);
            await toClient.WriteAsync(body, stopping.Token);
        }
    }
}
