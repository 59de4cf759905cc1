using System.Security.Cryptography;
using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>What <see cref="PoolerDetection"/> concluded about the way to the server.</summary>
public enum PoolerKind
{
    /// <summary>One server process for each client connection, for its whole life, and <c>ProcessID</c> = <c>pg_backend_pid()</c>.</summary>
    Direct,

    /// <summary>One server process for each client connection, but a proxy in between (a session-mode pooler, Neon's direct endpoint).</summary>
    SessionProxy,

    /// <summary>A pooler that hands server connections out per transaction (or per statement): session state does not stay with the client.</summary>
    TransactionPooler,

    /// <summary>The check could not run (a standby, two servers behind one connection string).</summary>
    CannotCheck,
}

/// <summary>The verdict, with the evidence in words (for the operator's message).</summary>
public sealed record PoolerVerdict(PoolerKind Kind, string Evidence)
{
    /// <summary>Whether session state (the migration lock, settings, temporary tables, snapshots) stays with one server session.</summary>
    public bool KeepsSessions => Kind is PoolerKind.Direct or PoolerKind.SessionProxy;
}

/// <summary>
/// Whether a connection string reaches PostgreSQL through a pooler in transaction (or statement)
/// mode, such as Neon's "-pooler" endpoint (PgBouncer). The runner keeps state in its sessions (the
/// migration lock, <c>lock_timeout</c>, exported snapshots), so it must not run behind one.
/// <para>
/// Two probe connections A and B (no startup options, no client pooling). Directly or through a
/// session-preserving proxy each has one server process for its whole life, so (S) no server
/// process answers both, (M) neither is answered by two, and (N) a NOTIFY that B commits reaches
/// A's LISTEN. A transaction pooler breaks one of these: B holds a transaction (pinning a server
/// connection) while A runs another, so A gets another server connection than B, or A's backend
/// moves; the LISTEN belongs to the server connection A had at the time, which is serving another
/// client or idle (PgBouncer then discards its notifications) when B's NOTIFY comes. Statement mode
/// refuses B's transaction outright (R). The round is repeated (without LISTEN) up to three times,
/// stopping at the first evidence. On a direct connection this costs two connections and about a
/// dozen round trips. <c>ProcessID</c> ≠ <c>pg_backend_pid()</c> only tells that there is a proxy.
/// </para>
/// </summary>
public static class PoolerDetection
{
    /// <summary>How long A may wait for a server connection while B holds one (a pool of one, a full pool).</summary>
    private static readonly TimeSpan FullPoolWait = TimeSpan.FromSeconds(2);

    /// <summary>How long A waits for B's notification after B committed (directly it is there at once).</summary>
    private static readonly TimeSpan NotificationWait = TimeSpan.FromSeconds(5);

    private const int Rounds = 3;

    public static async Task<PoolerVerdict> CheckAsync(MigrationDatabase database, CancellationToken cancellationToken)
    {
        await using var a = await database.OpenAsync(Roles.PoolerCheck, cancellationToken);
        await using var b = await database.OpenAsync(Roles.PoolerCheck, cancellationToken);
        var nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        var channel = $"iamvet_pooler_check_{nonce}";
        var received = false;
        a.Notification += (_, e) =>
        {
            if (e.Channel == channel && e.Payload == nonce)
            {
                received = true;
            }
        };

        var notified = false;
        var seenA = new HashSet<int>();
        var seenB = new HashSet<int>();
        try
        {
            // Two servers behind one connection string (several hosts, a load balancer): nothing below would mean anything.
            var serverA = await ScalarAsync<string>(a, ServerIdentity, null, cancellationToken);
            var serverB = await ScalarAsync<string>(b, ServerIdentity, null, cancellationToken);
            if (serverA != serverB)
            {
                return new(PoolerKind.CannotCheck,
                    $"its two check connections reached two different servers ({serverA}; {serverB}): name one host, the primary");
            }

            for (var round = 1; round <= Rounds; round++)
            {
                NpgsqlTransaction? transaction = null;
                try
                {
                    try
                    {
                        seenA.Add(await PidAsync(a, round == 1 ? $"LISTEN {channel}; " : "", null, cancellationToken));
                    }
                    catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ReadOnlySqlTransaction)
                    {
                        return new(PoolerKind.CannotCheck, $"the server is a standby (read-only: {e.MessageText}); connect to the primary");
                    }

                    seenA.Add(await PidAsync(a, "", null, cancellationToken));
                    transaction = await b.BeginTransactionAsync(cancellationToken);
                    // B's transaction idles while A runs: an idle_in_transaction_session_timeout set on the
                    // database or the role must not end it (for this transaction only: a pooler's server
                    // connection is left as it was found).
                    seenB.Add(await PidAsync(b, "SET LOCAL idle_in_transaction_session_timeout = 0; ", transaction, cancellationToken));
                    var pending = PidAsync(a, "", null, cancellationToken);
                    if (await Task.WhenAny(pending, Task.Delay(FullPoolWait, cancellationToken)) != pending)
                    {
                        // A waits for a server connection (a pool of one, a full pool): let B's go, A then gets one.
                        await transaction.RollbackAsync(cancellationToken);
                        await transaction.DisposeAsync();
                        transaction = null;
                    }

                    seenA.Add(await pending);
                    if (round == 1 && transaction is not null)
                    {
                        await using var notify = new NpgsqlCommand($"NOTIFY {channel}, '{nonce}'", b, transaction);
                        await notify.ExecuteNonQueryAsync(cancellationToken);
                        notified = true;
                    }

                    if (transaction is not null)
                    {
                        await transaction.CommitAsync(cancellationToken);
                        await transaction.DisposeAsync();
                        transaction = null;
                    }

                    seenB.Add(await PidAsync(b, "", null, cancellationToken));
                    if (PidEvidence(seenA, seenB) is { } evidence)
                    {
                        return new(PoolerKind.TransactionPooler, evidence);
                    }

                    // (no NOTIFY when B's transaction had to give way: a slow server, too, can keep A waiting 2 s)
                    if (round == 1 && notified)
                    {
                        // A session has the notification before (or with) the answer to this statement.
                        seenA.Add(await PidAsync(a, "", null, cancellationToken));
                        var clock = System.Diagnostics.Stopwatch.StartNew();
                        while (!received && clock.Elapsed < NotificationWait)
                        {
                            await a.WaitAsync(TimeSpan.FromMilliseconds(100), cancellationToken);
                        }

                        if (!received)
                        {
                            return new(PoolerKind.TransactionPooler,
                                $"a notification committed on one connection never reached the other connection's LISTEN (waited {NotificationWait.TotalSeconds:0} s)");
                        }

                        if (PidEvidence(seenA, seenB) is { } late)
                        {
                            return new(PoolerKind.TransactionPooler, late);
                        }
                    }
                }
                finally
                {
                    if (transaction is not null)
                    {
                        await transaction.DisposeAsync();
                    }
                }
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ProtocolViolation && e.MessageText.Contains("pooling mode", StringComparison.OrdinalIgnoreCase))
        {
            // PgBouncer in statement mode refuses a transaction of more than one statement.
            return new(PoolerKind.TransactionPooler, $"it refused a transaction: {e.MessageText}");
        }
        catch (PostgresException e)
        {
            return new(PoolerKind.CannotCheck, $"the check's statements failed ({e.SqlState}: {e.MessageText})");
        }
        finally
        {
            if (a.State == System.Data.ConnectionState.Open)
            {
                try
                {
                    await using var unlisten = new NpgsqlCommand("UNLISTEN *", a);
                    await unlisten.ExecuteNonQueryAsync(CancellationToken.None);
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
                {
                    // The connection closes next; a pooler's server connection is not ours to clean beyond that.
                }
            }
        }

        var pid = seenA.Single();
        return a.ProcessID == pid
            ? new(PoolerKind.Direct, $"one server process for each connection (pid {pid})")
            : new(PoolerKind.SessionProxy, "one server process for each connection, through a proxy (its process id is not the server's)");
    }

    /// <summary>The refusal the runner gives behind a transaction pooler, with the evidence found.</summary>
    public static string Refusal(string? host, string evidence) =>
        $"the connection to \"{host ?? "(default host)"}\" goes through a connection pooler in transaction mode (PgBouncer or similar): {evidence}; " +
        "session state (the migration lock, lock_timeout/statement_timeout, temporary tables, snapshots) would land on other clients' server connections. " +
        "Nothing was changed. Connect directly: on Neon use the direct endpoint, the host without \"-pooler\"";

    /// <summary>The check itself could not tell (a standby, two servers): a refusal of its own.</summary>
    public static string CannotCheck(string? host, string why) =>
        $"cannot check whether the connection to \"{host ?? "(default host)"}\" goes through a connection pooler: {why}. Nothing was changed";

    private const string ServerIdentity =
        "SELECT coalesce(host(inet_server_addr()), 'local socket') || ':' || coalesce(inet_server_port()::text, '') || ', started ' || pg_postmaster_start_time()::text";

    private static string? PidEvidence(HashSet<int> seenA, HashSet<int> seenB)
    {
        if (seenA.Overlaps(seenB))
        {
            return $"server process {string.Join(", ", seenA.Intersect(seenB))} answered two separate connections";
        }

        if (seenA.Count > 1 || seenB.Count > 1)
        {
            return $"one connection was answered by server processes {string.Join(", ", seenA.Count > 1 ? seenA : seenB)} in turn";
        }

        return null;
    }

    private static async Task<int> PidAsync(NpgsqlConnection connection, string before, NpgsqlTransaction? transaction, CancellationToken cancellationToken) =>
        await ScalarAsync<int>(connection, before + "SELECT pg_backend_pid()", transaction, cancellationToken);

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
