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

    /// <summary>
    /// The connection string of <paramref name="role"/>, without the runner's session settings
    /// (<see cref="SessionSettingsFor"/> sets them by SQL once connected). The operator's own
    /// <c>Options</c> stay as given; the runner adds none: a proxy may drop them (Neon's, on both of its
    /// endpoints) or refuse them (PgBouncer, unless told to ignore them).
    /// </summary>
    public string ConnectionStringFor(string role)
    {
        var builder = Target.Settings();
        builder.ApplicationName = $"iamvet-schema {role}";
        builder.CommandTimeout = 0;
        builder.Pooling = false;
        if (role == Roles.PoolerCheck)
        {
            // The pooler check (PoolerDetection) sends no startup options at all, not even the
            // operator's: a pooler that refuses them must still answer it, so the operator hears
            // "a pooler" rather than "refused".
            builder.Options = null;
            builder.Multiplexing = false;
            builder.CommandTimeout = 30;
        }

        return builder.ConnectionString;
    }

    /// <summary>FluentMigrator's connection in <paramref name="role"/>: its connection string, and the SQL it runs first when it opens.</summary>
    public SessionConnection FluentMigratorConnection(string role) => new(ConnectionStringFor(role), SessionSettingsFor(role));

    /// <summary>
    /// The one statement that sets the runner's session settings of <paramref name="role"/>, run first
    /// on each physical connection (the data sources' connection initializer; FluentMigrator's
    /// connection as it opens). Every setting the runner relies on is set here, so neither a proxy
    /// that drops startup parameters nor a timeout set on the database or the role
    /// (<c>ALTER DATABASE/ROLE … SET</c>) decides it. A setting this server does not know
    /// (<c>idle_session_timeout</c> before 14, <c>transaction_timeout</c> before 17) is left out.
    /// The pooler check sets only <c>idle_session_timeout</c> (its first connection idles while the
    /// second connects), which is all it may leave on a transaction pooler's server connection.
    /// </summary>
    public string SessionSettingsFor(string role)
    {
        if (role == Roles.PoolerCheck)
        {
            return SetConfig([("idle_session_timeout", "0")]);
        }

        // Every connection reads every row or fails: a row-level security policy that would hide a
        // row makes PostgreSQL refuse the query ("query would be affected by row-level security
        // policy") instead of silently filtering it (a superuser or BYPASSRLS role is not affected).
        // The tables are public's: a search_path that a role or the database puts another schema
        // first in (with a users table of its own, say) must not decide which table a migration,
        // its verification or a check reads; nor where FluentMigrator keeps VersionInfo.
        var settings = new List<(string Name, string Value)> { ("search_path", "public"), ("row_security", "off") };
        if (role != Roles.Migrate)
        {
            // The runner's own reads (audit, verification, status …) are a handful of aggregates over
            // whole tables: their plan costs are far above jit_above_cost, and compiling them (with
            // inlining and optimization) cost more than it saved, e.g. 1.2 s of a 3.4 s pass over a
            // million users (docs/performance.md). The migration's connection keeps the server's
            // setting for the migrations (the verification on it turns JIT off at the gate).
            settings.Add(("jit", "off"));
        }

        // A run bounds its waits for table locks by --lock-timeout, and only the migration and its
        // readers by --statement-timeout (0 = none). Whatever the database or the role sets is
        // overridden: the run's connections idle (the lock connection while the migration runs) and
        // idle in a transaction (the audit's and the readers' snapshots) by design, and its reads of
        // whole tables take what they take. A command without a run's lock timeout (status, verify …)
        // waits as on a server with the defaults.
        var migrating = lockTimeout is not null && role is Roles.Migrate or Roles.Verify;
        settings.Add(("lock_timeout", Milliseconds(lockTimeout ?? TimeSpan.Zero).ToString(CultureInfo.InvariantCulture)));
        settings.Add(("statement_timeout", Milliseconds(migrating ? statementTimeout : TimeSpan.Zero).ToString(CultureInfo.InvariantCulture)));
        settings.Add(("idle_in_transaction_session_timeout", "0"));
        settings.Add(("idle_session_timeout", "0"));
        settings.Add(("transaction_timeout", "0"));
        if (migrating)
        {
            settings.Add(("client_connection_check_interval", "1000"));
        }

        return SetConfig(settings);
    }

    /// <summary>One statement setting each of <paramref name="settings"/> for the session, those this server knows.</summary>
    private static string SetConfig(IEnumerable<(string Name, string Value)> settings) =>
        $"SELECT count(pg_catalog.set_config(name, value, false)) FROM (VALUES {string.Join(", ", settings.Select(s => $"('{s.Name}', '{s.Value}')"))}) AS wanted(name, value) " +
        "WHERE name IN (SELECT name FROM pg_catalog.pg_settings)";

    /// <summary>Opens a connection in <paramref name="role"/>, its session settings set.</summary>
    public async Task<NpgsqlConnection> OpenAsync(string role, CancellationToken cancellationToken)
    {
        try
        {
            return await sources.GetOrAdd(role, CreateDataSource).OpenConnectionAsync(cancellationToken);
        }
        catch (Exception ex) when (ConnectionErrors.IsEndedByATimeoutAtConnect(ex) && !cancellationToken.IsCancellationRequested)
        {
            // Npgsql's first query on a new data source (the server's types) runs before the session
            // settings: a short statement_timeout on the database or the role can end it, on any role's
            // first connection, not only the lock connection's.
            throw new ConnectRefused(DescribeConnectFailure(ex), ex);
        }
    }

    /// <summary>Runs <paramref name="sessionSettings"/> (<see cref="SessionSettingsFor"/>) on <paramref name="connection"/>, outside any transaction.</summary>
    public static void ApplySessionSettings(NpgsqlConnection connection, string sessionSettings)
    {
        if (sessionSettings.Length > 0)
        {
            using var command = new NpgsqlCommand(sessionSettings, connection);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// The data source of <paramref name="role"/>: each physical connection runs its session settings
    /// before it is handed out (the connections are not pooled: Pooling is off, so no DISCARD ALL
    /// undoes them and each open is a physical connection).
    /// </summary>
    private NpgsqlDataSource CreateDataSource(string role)
    {
        var sessionSettings = SessionSettingsFor(role);
        var builder = new NpgsqlDataSourceBuilder(ConnectionStringFor(role));
        if (sessionSettings.Length > 0)
        {
            builder.UsePhysicalConnectionInitializer(
                connection => ApplySessionSettings(connection, sessionSettings),
                connection => Sql.ExecuteAsync(connection, sessionSettings, CancellationToken.None));
        }

        return builder.Build();
    }

    /// <summary>
    /// Null when <paramref name="connection"/> (opened by this database) runs with the <c>lock_timeout</c>
    /// the run set on it when it connected; otherwise what it found instead. Set by SQL on the session,
    /// it is lost only where the session is not the connection's (a pooler handing server connections
    /// out per statement that the pooler check did not catch): a statement later, on another session.
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

/// <summary>
/// A connection FluentMigrator opens itself from <paramref name="ConnectionString"/>; the executor runs
/// <paramref name="SessionSettings"/> on it as it opens (<see cref="MigrationDatabase.SessionSettingsFor"/>).
/// A bare connection string (the tests' own databases) converts to one without settings.
/// </summary>
public sealed record SessionConnection(string ConnectionString, string SessionSettings)
{
    public static implicit operator SessionConnection(string connectionString) => new(connectionString, "");
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
