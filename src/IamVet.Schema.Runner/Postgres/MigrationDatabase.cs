using System.Collections.Concurrent;
using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>
/// The database layer (the role grate's <c>IDatabase</c> plays): the one place that turns the
/// resolved <see cref="ConnectionTarget"/> into connections. Each connection role of a run (the
/// lock connection, the audit's second connection, the migration, its snapshot readers, …) gets one
/// <see cref="NpgsqlDataSource"/>, built once; its <c>application_name</c> says the role in
/// pg_stat_activity. The lock, the version history and migration_log are the small helpers beside
/// this class (<see cref="AdvisoryLock"/>, <see cref="VersionHistory"/>, <see cref="MigrationLog"/>),
/// which take the connections it opens.
/// <para>
/// A run's connections (<paramref name="lockTimeout"/> given) wait at most that long for any table
/// lock, so neither the run nor the sessions queued behind its lock requests wait longer; the
/// migration and its readers also get <paramref name="statementTimeout"/> and check every second
/// that the runner is still there (<c>client_connection_check_interval</c>, PostgreSQL 14 or
/// later, which pre-flight requires before they connect): a killed runner's transaction is rolled
/// back (and its locks released) at once, not when the statement it was running ends.
/// </para>
/// <para>
/// Every connection, of every role, has <c>row_security = off</c>: a row-level security policy
/// that would hide a row from the runner's role is an error, never a silent filter
/// (<see cref="RowSecurity"/> names such tables before anything runs).
/// </para>
/// </summary>
public sealed class MigrationDatabase(ConnectionTarget target, TimeSpan? lockTimeout = null, TimeSpan statementTimeout = default) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, NpgsqlDataSource> sources = new(StringComparer.Ordinal);

    public ConnectionTarget Target { get; } = target;

    public string Name => Target.Database;

    /// <summary>The same server, settings and credentials, another database (the maintenance database, a scratch copy).</summary>
    public MigrationDatabase Sibling(string database) => new(Target.WithDatabase(database), lockTimeout, statementTimeout);

    /// <summary>The connection string of <paramref name="role"/>: for FluentMigrator, which opens its own connection.</summary>
    public string ConnectionStringFor(string role)
    {
        var builder = Target.Settings();
        builder.ApplicationName = $"iamvet-schema {role}";
        builder.CommandTimeout = 0;
        builder.Pooling = false;
        if (role == Roles.PoolerCheck)
        {
            // The pooler check (PoolerDetection) sends no startup options: a pooler that refuses them
            // must still answer it, so the operator hears "a pooler" rather than "refused".
            builder.Options = null;
            builder.Multiplexing = false;
            builder.CommandTimeout = 30;
            return builder.ConnectionString;
        }

        // Every connection reads every row or fails: a row-level security policy that would hide a
        // row makes PostgreSQL refuse the query ("query would be affected by row-level security
        // policy") instead of silently filtering it (a superuser or BYPASSRLS role is not affected).
        // The tables are public's: a search_path that a role or the database puts another schema
        // first in (with a users table of its own, say) must not decide which table a migration,
        // its verification or a check reads; nor where FluentMigrator keeps VersionInfo.
        var settings = "-c search_path=public -c row_security=off";
        if (role != Roles.Migrate)
        {
            // The runner's own reads (audit, verification, status …) are a handful of aggregates over
            // whole tables: their plan costs are far above jit_above_cost, and compiling them (with
            // inlining and optimization) cost more than it saved, e.g. 1.2 s of a 3.4 s pass over a
            // million users (docs/performance.md). The migration's connection keeps the server's
            // setting for the migrations (the verification on it turns JIT off at the gate).
            settings += " -c jit=off";
        }

        if (lockTimeout is { } timeout)
        {
            settings += $" -c lock_timeout={Milliseconds(timeout)}";
            if (role is Roles.Migrate or Roles.Verify)
            {
                settings += $" -c statement_timeout={Milliseconds(statementTimeout)} -c client_connection_check_interval=1000";
            }
        }

        builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? settings : $"{builder.Options} {settings}";

        return builder.ConnectionString;
    }

    /// <summary>Opens a connection in <paramref name="role"/>.</summary>
    public async Task<NpgsqlConnection> OpenAsync(string role, CancellationToken cancellationToken) =>
        await sources.GetOrAdd(role, r => NpgsqlDataSource.Create(ConnectionStringFor(r))).OpenConnectionAsync(cancellationToken);

    /// <summary>
    /// Null when <paramref name="connection"/> (opened by this database) runs with the <c>lock_timeout</c>
    /// the run asked for in its startup options; otherwise what it found instead. A pooler configured
    /// with <c>ignore_startup_parameters = options</c> accepts the options and silently drops them.
    /// </summary>
    public async Task<string?> SettingsNotInForceAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (lockTimeout is not { } timeout)
        {
            return null;
        }

        var actual = await Sql.ScalarAsync<string>(connection, "SELECT setting FROM pg_settings WHERE name = 'lock_timeout'", cancellationToken);
        var expected = Milliseconds(timeout).ToString(CultureInfo.InvariantCulture);
        return actual == expected ? null : $"lock_timeout is {actual} ms on the server, the runner asked for {expected} ms";
    }

    /// <summary>
    /// libpq's environment for a client program (pg_dump, pg_restore) that connects like this
    /// database's <paramref name="role"/>: the password goes in <c>PGPASSWORD</c>, never an argument.
    /// <paramref name="options"/>, when given, becomes <c>PGOPTIONS</c>.
    /// </summary>
    public Dictionary<string, string?> ClientEnvironment(string role, string? options = null)
    {
        var connection = Target.Settings();
        var endpoints = Target.Endpoints;
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            // Several hosts as libpq takes them: PGHOST=a,b and PGPORT=1,2, tried in that order.
            ["PGHOST"] = endpoints.Count > 0 ? string.Join(',', endpoints.Select(e => e.Host)) : connection.Host,
            ["PGPORT"] = endpoints.Count > 0
                ? string.Join(',', endpoints.Select(e => e.Port.ToString(CultureInfo.InvariantCulture)))
                : connection.Port.ToString(CultureInfo.InvariantCulture),
            ["PGDATABASE"] = connection.Database,
            ["PGUSER"] = connection.Username,
            ["PGPASSWORD"] = connection.Password,
            ["PGAPPNAME"] = $"iamvet-schema {role}",
            ["PGCONNECT_TIMEOUT"] = (connection.Timeout > 0 ? connection.Timeout : 15).ToString(CultureInfo.InvariantCulture),
            // Every mode, so that libpq's default (prefer) never differs from what the runner's own connections did.
            ["PGSSLMODE"] = connection.SslMode switch
            {
                SslMode.Disable => "disable",
                SslMode.Allow => "allow",
                SslMode.Require => "require",
                SslMode.VerifyCA => "verify-ca",
                SslMode.VerifyFull => "verify-full",
                _ => "prefer",
            },
            ["PGCHANNELBINDING"] = connection.ChannelBinding switch
            {
                ChannelBinding.Disable => "disable",
                ChannelBinding.Require => "require",
                _ => "prefer",
            },
        };

        // Set only when the connection string sets them: otherwise the operator's own variable, which Npgsql reads too, stays in force.
        // Without a root certificate (nor PGSSLROOTCERT) Npgsql verifies against the system's CAs;
        // libpq would look for ~/.postgresql/root.crt unless told "system" (libpq 16+, verify-full only).
        SetIfGiven("PGSSLROOTCERT", !string.IsNullOrEmpty(connection.RootCertificate) ? connection.RootCertificate
            : connection.SslMode == SslMode.VerifyFull && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("PGSSLROOTCERT")) ? "system" : null);
        SetIfGiven("PGSSLCERT", connection.SslCertificate);
        SetIfGiven("PGSSLKEY", connection.SslKey);
        // Npgsql's prefer-primary is not libpq's: pg_dump then takes the first host that answers, as with any.
        SetIfGiven("PGTARGETSESSIONATTRS", connection.TargetSessionAttributes is "prefer-primary" ? null : connection.TargetSessionAttributes);

        if (options is not null)
        {
            environment["PGOPTIONS"] = options;
        }

        return environment;

        void SetIfGiven(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                environment[name] = value;
            }
        }
    }

    /// <summary>One sentence for a failed connection attempt (never the password).</summary>
    public string DescribeConnectFailure(Exception exception) => ConnectionErrors.Describe(exception, Target.Settings());

    /// <summary>Whether <paramref name="exception"/> is a failure to connect (as opposed to one of a statement).</summary>
    public static bool IsConnectFailure(Exception exception) => exception is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException;

    public async ValueTask DisposeAsync()
    {
        foreach (var source in sources.Values)
        {
            await source.DisposeAsync();
        }

        sources.Clear();
    }

    private static long Milliseconds(TimeSpan value) => (long)value.TotalMilliseconds;
}

/// <summary>The connection roles of the runner: each shows as <c>iamvet-schema &lt;role&gt;</c> in pg_stat_activity.</summary>
public static class Roles
{
    /// <summary>Holds the migration lock for the whole run; pre-flight, the audit and migration_log use it.</summary>
    public const string Lock = "lock";

    /// <summary>The data audit's second connection.</summary>
    public const string Audit = "audit";

    /// <summary>FluentMigrator's connection: the one transaction of the migrations and their verification.</summary>
    public const string Migrate = "migrate";

    /// <summary>The verification's snapshot readers (and the <c>verify</c> command).</summary>
    public const string Verify = "verify";

    /// <summary>Cancels the migration's running statement on Ctrl-C.</summary>
    public const string Cancel = "cancel";

    /// <summary>The backup's snapshot and row counts.</summary>
    public const string Backup = "backup";

    /// <summary>pg_dump itself (a connection a killed run may leave working).</summary>
    public const string PgDump = "pg_dump";

    public const string PgRestore = "pg_restore";

    /// <summary>Creates, renames and drops databases (connected to the maintenance database).</summary>
    public const string Restore = "restore";

    public const string Status = "status";

    public const string Preview = "preview";

    public const string Baseline = "baseline";

    public const string Seed = "seed";

    /// <summary>The two short connections of <see cref="PoolerDetection"/>, before the lock is taken.</summary>
    public const string PoolerCheck = "pooler-check";
}
