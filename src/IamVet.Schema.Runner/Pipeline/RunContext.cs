using System.Diagnostics;
using System.Text.Json.Nodes;
using IamVet.Schema.Runner.Engine;
using IamVet.Schema.Runner.Postgres;
using Npgsql;

namespace IamVet.Schema.Runner.Pipeline;

/// <summary>The state one run carries from stage to stage.</summary>
public sealed class RunContext(RunOptions options) : IAsyncDisposable
{
    public RunOptions Options { get; } = options;

    public NpgsqlConnectionStringBuilder Connection { get; } = new(options.ConnectionString);

    public string Database => Connection.Database!;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public List<StageResult> Stages { get; } = [];

    /// <summary>The connection that holds the session advisory lock for the whole run.</summary>
    public NpgsqlConnection? LockConnection { get; set; }

    public string? ServerVersion { get; set; }

    public int ServerMajor { get; set; }

    public IReadOnlyList<long> AppliedBefore { get; set; } = [];

    public MigrationPlan? Plan { get; set; }

    public BackupResult? Backup { get; set; }

    /// <summary>Verification and audit facts stored in migration_log.details and printed with --json.</summary>
    public JsonObject Details { get; } = [];

    /// <summary>The migration_log row of this attempt, once written.</summary>
    public int? LogRowId { get; set; }

    /// <summary>What the data audit found (the migrate stage adds what it checks alongside the migrations).</summary>
    public List<Verification.AuditFinding> AuditFindings { get; } = [];

    /// <summary>Whether the audit left its side-table warnings to the migrate stage (a migrating run).</summary>
    public bool AuditChecksLeftToMigration { get; set; }

    /// <summary>Why the side-table checks left to the migrate stage have no result (null: they do, or none were left).</summary>
    public string? AuditAlongsideNotCompleted { get; set; }

    /// <summary>The verification result, shown as its own stage after Migrate.</summary>
    public StageResult? VerifyResult { get; set; }

    public bool NothingToDo => Plan is { IsEmpty: true };

    /// <summary>
    /// A connection string for one role of the run (application_name shows it in pg_stat_activity).
    /// Every connection waits at most --lock-timeout for a table lock, so neither the run nor the
    /// sessions queued behind its lock requests wait longer; the migration's also gets --statement-timeout
    /// and, on PostgreSQL 14 or later, checks every second that the runner is still there: a killed
    /// runner's transaction is rolled back (and its locks released) at once, not when the statement
    /// it was running ends, which in a long data move can be many minutes later.
    /// </summary>
    public string ConnectionStringFor(string role, bool migrationTimeouts = false)
    {
        var builder = new NpgsqlConnectionStringBuilder(Connection.ConnectionString)
        {
            ApplicationName = $"iamvet-schema {role}",
            CommandTimeout = 0,
            Pooling = false,
        };
        var timeouts = $"-c lock_timeout={(long)Options.LockTimeout.TotalMilliseconds}" +
                       (migrationTimeouts ? $" -c statement_timeout={(long)Options.StatementTimeout.TotalMilliseconds}" : "") +
                       (migrationTimeouts && ServerMajor >= 14 ? " -c client_connection_check_interval=1000" : "");
        builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? timeouts : $"{builder.Options} {timeouts}";
        return builder.ConnectionString;
    }

    public async Task<NpgsqlConnection> OpenAsync(string role, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(ConnectionStringFor(role));
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        if (LockConnection is not null)
        {
            await LockConnection.DisposeAsync();
        }
    }
}
