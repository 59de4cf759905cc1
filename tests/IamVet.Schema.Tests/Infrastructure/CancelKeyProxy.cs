using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>
/// A session-preserving proxy in front of the test server, as Neon's direct endpoint is: one server
/// connection per client connection for its whole life, every byte passed on, except that the
/// client is given a cancel key of the proxy's own (BackendKeyData with another process id), as
/// proxies that handle cancel requests themselves do. Through it, Npgsql's <c>ProcessID</c> is not
/// the server's <c>pg_backend_pid()</c>, and no server process has that id. It answers TLS and GSS
/// encryption requests with "no" itself and does not pass cancel requests on.
/// <para>
/// Started with <c>dropStartupOptions</c>, it removes the startup parameter <c>options</c> from every
/// startup message, as Neon's proxy has been seen to (<c>-c lock_timeout=…</c> never reaches the
/// server). Started with <c>showSettingsAtEnd</c>, when a client ends its connection (Terminate) the
/// proxy first asks the server session what its timeouts are and records them in
/// <see cref="Sessions"/> under the client's <c>application_name</c>: what that session really ran with.
/// </para>
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
    private readonly bool dropStartupOptions;
    private readonly bool showSettingsAtEnd;
    private readonly System.Collections.Concurrent.ConcurrentQueue<ProxiedSession> sessions = new();

    private CancelKeyProxy(string connectionString, bool dropStartupOptions, bool showSettingsAtEnd)
    {
        this.dropStartupOptions = dropStartupOptions;
        this.showSettingsAtEnd = showSettingsAtEnd;
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

    /// <summary>The sessions that ended with a Terminate, with the settings in force at their end (<c>showSettingsAtEnd</c> only).</summary>
    public IReadOnlyList<ProxiedSession> Sessions => [.. sessions];

    /// <summary>Starts a proxy to the server of <paramref name="connectionString"/>.</summary>
    public static CancelKeyProxy Start(string connectionString, bool dropStartupOptions = false, bool showSettingsAtEnd = false) =>
        new(connectionString, dropStartupOptions, showSettingsAtEnd);

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
            Dictionary<string, string> parameters;
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

                parameters = StartupParameters(body);
                if (dropStartupOptions && parameters.Remove("options"))
                {
                    body = StartupMessage(code, parameters);
                    BinaryPrimitives.WriteInt32BigEndian(length, body.Length + 4);
                }

                await toServer.WriteAsync(length, stopping.Token);
                await toServer.WriteAsync(body, stopping.Token);
                break;
            }

            if (!showSettingsAtEnd)
            {
                await Task.WhenAny(fromClient.CopyToAsync(toServer, stopping.Token), ToClientAsync(toServer, fromClient, null));
                return;
            }

            var probe = new SettingsProbe(parameters.GetValueOrDefault("application_name", ""));
            await Task.WhenAny(FromClientAsync(fromClient, toServer, probe), ToClientAsync(toServer, fromClient, probe));
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or EndOfStreamException or ObjectDisposedException)
        {
            // A side closed: so does the other (the usings).
        }
    }

    /// <summary>The settings the proxy asks a session for as its client ends it.</summary>
    private const string SettingsQuery =
        "ROLLBACK; SELECT current_setting('lock_timeout'), current_setting('statement_timeout'), " +
        "current_setting('idle_in_transaction_session_timeout'), current_setting('idle_session_timeout')";

    /// <summary>The client's messages (a type byte, a length); its Terminate ('X') waits for the settings query first.</summary>
    private async Task FromClientAsync(Stream fromClient, Stream toServer, SettingsProbe probe)
    {
        var reading = new BufferedStream(fromClient, 65536);
        var header = new byte[5];
        while (true)
        {
            var body = await ReadMessageAsync(reading, header);
            if (header[0] == (byte)'X')
            {
                probe.Asking = true;
                var query = Encoding.UTF8.GetBytes(SettingsQuery + "\0");
                var message = new byte[5 + query.Length];
                message[0] = (byte)'Q';
                BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), 4 + query.Length);
                query.CopyTo(message, 5);
                await toServer.WriteAsync(message, stopping.Token);
                var values = await probe.Answered.Task.WaitAsync(TimeSpan.FromSeconds(30), stopping.Token) ?? ["(failed)", "(failed)", "(failed)", "(failed)"];
                sessions.Enqueue(new ProxiedSession(probe.ApplicationName, values[0], values[1], values[2], values[3]));
            }

            await toServer.WriteAsync(header, stopping.Token);
            await toServer.WriteAsync(body, stopping.Token);
            if (header[0] == (byte)'X')
            {
                return;
            }
        }
    }

    /// <summary>Reads one message (after the startup packets): its type and length into <paramref name="header"/>, its body returned.</summary>
    private async Task<byte[]> ReadMessageAsync(Stream reading, byte[] header)
    {
        await reading.ReadExactlyAsync(header, stopping.Token);
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1)) - 4];
        await reading.ReadExactlyAsync(body, stopping.Token);
        return body;
    }

    private static Dictionary<string, string> StartupParameters(byte[] body)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        var strings = Encoding.UTF8.GetString(body, 4, body.Length - 4).Split('\0');
        for (var i = 0; i + 1 < strings.Length && strings[i].Length > 0; i += 2)
        {
            parameters[strings[i]] = strings[i + 1];
        }

        return parameters;
    }

    private static byte[] StartupMessage(int protocol, Dictionary<string, string> parameters)
    {
        var text = Encoding.UTF8.GetBytes(string.Concat(parameters.Select(p => $"{p.Key}\0{p.Value}\0")) + "\0");
        var body = new byte[4 + text.Length];
        BinaryPrimitives.WriteInt32BigEndian(body, protocol);
        text.CopyTo(body, 4);
        return body;
    }

    /// <summary>
    /// The server's messages (a type byte, a length), the BackendKeyData ('K') rewritten. Once the
    /// client has ended its connection, the answer to the settings query goes to <paramref name="probe"/> instead.
    /// </summary>
    private async Task ToClientAsync(Stream fromServer, Stream toClient, SettingsProbe? probe)
    {
        var reading = new BufferedStream(fromServer, 65536);
        var header = new byte[5];
        while (true)
        {
            var body = await ReadMessageAsync(reading, header);
            if (header[0] == (byte)'K')
            {
                BinaryPrimitives.WriteInt32BigEndian(body, FakeProcessId(BinaryPrimitives.ReadInt32BigEndian(body)));
                BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(4), ~BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(4)));
            }

            if (probe is { Asking: true })
            {
                probe.Read(header[0], body);
                continue;
            }

            await toClient.WriteAsync(header, stopping.Token);
            await toClient.WriteAsync(body, stopping.Token);
        }
    }
}

/// <summary>One session seen through the proxy: its client's application_name and its timeouts at its end, as <c>SHOW</c> prints them.</summary>
public sealed record ProxiedSession(string ApplicationName, string LockTimeout, string StatementTimeout, string IdleInTransactionSessionTimeout, string IdleSessionTimeout);

/// <summary>The settings query of one session: its DataRow's values once its ReadyForQuery came (null when it failed).</summary>
internal sealed class SettingsProbe(string applicationName)
{
    private string[]? row;

    public string ApplicationName { get; } = applicationName;

    public volatile bool Asking;

    public TaskCompletionSource<string[]?> Answered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Read(byte type, byte[] body)
    {
        if (type == (byte)'D')
        {
            var values = new string[BinaryPrimitives.ReadInt16BigEndian(body)];
            var at = 2;
            for (var i = 0; i < values.Length; i++)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(at));
                values[i] = Encoding.UTF8.GetString(body, at + 4, length);
                at += 4 + length;
            }

            row = values;
        }
        else if (type == (byte)'Z')
        {
            Answered.TrySetResult(row);
        }
    }
}
