using System.Data;
using FluentMigrator.Runner;
using FluentMigrator.Runner.Processors;
using IamVet.Schema.Migrations;
using IamVet.Schema.Migrations.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using FluentMigrator.Runner.Logging;
using Npgsql;

namespace IamVet.Schema.Runner.Engine;

/// <summary>
/// Runs a <see cref="MigrationPlan"/> through the real FluentMigrator runner inside ONE
/// transaction that we own: every migration of the plan, its VersionInfo rows, and then the
/// caller's check (verification) run before COMMIT, so a failed check leaves nothing behind.
/// The transaction is FluentMigrator's own migration scope, so the scopes it opens itself
/// (creating VersionInfo) join it instead of committing it; each planned migration is applied with
/// <c>ApplyMigrationUp/Down(…, useTransaction: false)</c>. Not <c>MigrateUp</c>: in FluentMigrator
/// 8.0.1 it first "validates the connection" by rolling back whatever transaction is open
/// (fluentmigrator/fluentmigrator#2267), after which every migration would autocommit on its own.
/// </summary>
public sealed class MigrationExecutor(ILoggerFactory loggerFactory)
{
    /// <summary>
    /// Applies <paramref name="plan"/>. <paramref name="beforeMigrate"/> and <paramref name="beforeCommit"/>
    /// run on the migration's own connection and transaction, before the first migration and after
    /// the last; <paramref name="atGate"/> where a migration passes its <see cref="IExclusiveLockGate"/>
    /// (the end of its data phase, before its statements that lock users ACCESS EXCLUSIVE). Throwing
    /// from any of them rolls everything back.
    /// </summary>
    public void Apply(
        SessionConnection connection,
        MigrationPlan plan,
        Func<NpgsqlConnection, NpgsqlTransaction, Task>? beforeMigrate = null,
        Func<NpgsqlConnection, NpgsqlTransaction, Task>? beforeCommit = null,
        Func<MigrationStep, TimeSpan, NpgsqlConnection, NpgsqlTransaction, Task>? afterEach = null,
        Func<NpgsqlConnection, NpgsqlTransaction, Task>? atGate = null,
        Action? beforeExclusive = null)
    {
        var gate = atGate is null ? null : new Gate(atGate, beforeExclusive);
        using var services = BuildServices(connection.ConnectionString, previewOnly: false, loggerFactory, gate);
        using var scope = services.CreateScope();
        var runner = Runner(scope, connection);
        var processor = (GenericProcessorBase)runner.Processor;
        var migrations = runner.MigrationLoader.LoadMigrations();

        var transactionScope = runner.BeginScope();
        var transaction = (NpgsqlTransaction)processor.Transaction!;
        var npgsql = (NpgsqlConnection)processor.Connection;
        try
        {
            beforeMigrate?.Invoke(npgsql, transaction).GetAwaiter().GetResult();

            // One step at a time, all inside the one transaction, so progress can be reported between steps.
            foreach (var step in plan.Steps)
            {
                if (step.LocksUsersThroughout)
                {
                    gate?.BeforeLockingMigration();
                }

                var clock = System.Diagnostics.Stopwatch.StartNew();
                if (plan.Direction == MigrationDirection.Up)
                {
                    runner.ApplyMigrationUp(migrations[step.Version], useTransaction: false);
                }
                else
                {
                    runner.ApplyMigrationDown(migrations[step.Version], useTransaction: false);
                }

                if (!ReferenceEquals(processor.Transaction, transaction))
                {
                    throw new InvalidOperationException("FluentMigrator ended the migration transaction before COMMIT: the run cannot be proven atomic");
                }

                afterEach?.Invoke(step, clock.Elapsed, npgsql, transaction).GetAwaiter().GetResult();
            }

            // The statements that lock users ACCESS EXCLUSIVE, held until here (docs/adr/0009).
            gate?.RunDeferred();
            beforeCommit?.Invoke(npgsql, transaction).GetAwaiter().GetResult();
            transactionScope.Complete();
        }
        catch
        {
            if (transactionScope.IsActive && processor.Transaction is not null && processor.Connection.State == ConnectionState.Open)
            {
                transactionScope.Cancel();
            }

            throw;
        }
    }

    /// <summary>
    /// Writes the SQL the plan would run to <paramref name="output"/>, executing nothing that
    /// changes the database (FluentMigrator's preview mode; it still connects to read VersionInfo);
    /// for a rollback, then the steps its Finish stage runs after COMMIT (docs/adr/0008, 0009).
    /// </summary>
    public static void Preview(SessionConnection connection, MigrationPlan plan, TextWriter output)
    {
        using var previewLogging = LoggerFactory.Create(logging => logging.AddProvider(new PreviewSqlLoggerProvider(output)));
        using var services = BuildServices(connection.ConnectionString, previewOnly: true, previewLogging);
        using var scope = services.CreateScope();
        var runner = Runner(scope, connection);
        if (plan.Direction == MigrationDirection.Up)
        {
            runner.MigrateUp(plan.TargetVersion);
        }
        else
        {
            runner.MigrateDown(plan.TargetVersion);
            foreach (var (step, finish) in MigrationCatalog.DownFinishers.Where(f => plan.Steps.Any(s => s.Version == f.Step.Version)))
            {
                output.WriteLine($"-- {step.Version}: after the rollback's COMMIT, the Finish stage runs each of these in a transaction of its own (docs/adr/0008, 0009)");
                foreach (var sql in finish.FinishDownSteps)
                {
                    output.WriteLine(sql.TrimEnd());
                    output.WriteLine();
                }
            }
        }
    }

    /// <summary>
    /// Records <paramref name="step"/> as applied without running it, in FluentMigrator's own
    /// VersionInfo table (created if missing): how <c>baseline</c> adopts an existing database.
    /// </summary>
    public void RecordAsApplied(SessionConnection connection, MigrationStep step)
    {
        using var services = BuildServices(connection.ConnectionString, previewOnly: false, loggerFactory);
        using var scope = services.CreateScope();
        var versions = Runner(scope, connection).VersionLoader;
        versions.LoadVersionInfo();
        versions.UpdateVersionInfo(step.Version, step.Description);
    }

    /// <summary>
    /// The scope's runner, its connection's session settings set (<paramref name="connection"/>):
    /// FluentMigrator opens its connection as it is first asked for it (here, before any statement
    /// of its own), and should it ever open it again, the settings are set again as it opens.
    /// </summary>
    private static MigrationRunner Runner(IServiceScope scope, SessionConnection connection)
    {
        var runner = (MigrationRunner)scope.ServiceProvider.GetRequiredService<IMigrationRunner>();
        var npgsql = (NpgsqlConnection)((GenericProcessorBase)runner.Processor).Connection;
        if (npgsql.State == ConnectionState.Open)
        {
            MigrationDatabase.ApplySessionSettings(npgsql, connection.SessionSettings);
        }

        npgsql.StateChange += (_, change) =>
        {
            if (change.CurrentState == ConnectionState.Open)
            {
                MigrationDatabase.ApplySessionSettings(npgsql, connection.SessionSettings);
            }
        };
        return runner;
    }

    private static ServiceProvider BuildServices(string connectionString, bool previewOnly, ILoggerFactory loggerFactory, IExclusiveLockGate? gate = null)
    {
        var services = new ServiceCollection();
        if (gate is not null)
        {
            services.AddSingleton(gate);
        }

        return services
            .AddSingleton(loggerFactory)
            .AddLogging()
            .AddFluentMigratorCore()
            .ConfigureRunner(runner => runner
                .AddPostgres()
                .WithGlobalConnectionString(connectionString)
                .WithGlobalCommandTimeout(TimeSpan.FromHours(6))
                .ScanIn(typeof(LegacyBaseline).Assembly).For.Migrations())
            .Configure<ProcessorOptions>(options => options.PreviewOnly = previewOnly)
            .BuildServiceProvider(validateScopes: false);
    }

    /// <summary>
    /// The migrations' <see cref="IExclusiveLockGate"/>, calling back on their own connection and transaction.
    /// Their exclusive statements wait for <see cref="RunDeferred"/>: after the plan's last migration,
    /// or before a migration that is <see cref="ILocksUsersThroughout"/> (it may depend on them, and
    /// users is locked from its start anyway). So the other migrations and FluentMigrator's
    /// VersionInfo bookkeeping between them run before users is locked, in both directions.
    /// <paramref name="beforeExclusive"/> is called as users is first locked (again, should a plan lock it
    /// twice: the caller's clock keeps running).
    /// </summary>
    private sealed class Gate(Func<NpgsqlConnection, NpgsqlTransaction, Task> atGate, Action? beforeExclusive) : IExclusiveLockGate
    {
        private readonly List<(IDbConnection Connection, IDbTransaction? Transaction, Action<IDbConnection, IDbTransaction?> Statements)> deferred = [];

        public void Enter(IDbConnection connection, IDbTransaction? transaction) =>
            atGate((NpgsqlConnection)connection, (NpgsqlTransaction)(transaction
                ?? throw new InvalidOperationException("a migration reached its exclusive-lock gate outside the migration transaction"))).GetAwaiter().GetResult();

        public void RunExclusive(IDbConnection connection, IDbTransaction? transaction, Action<IDbConnection, IDbTransaction?> statements) =>
            deferred.Add((connection, transaction, statements));

        /// <summary>
        /// A migration that locks users from its first statement is about to start: the held-back
        /// statements run first (it may depend on them); users is locked from here either way.
        /// </summary>
        public void BeforeLockingMigration()
        {
            if (deferred.Count == 0)
            {
                beforeExclusive?.Invoke();
            }

            RunDeferred();
        }

        /// <summary>Runs the deferred statements, in the order the migrations reached them.</summary>
        public void RunDeferred()
        {
            if (deferred.Count > 0)
            {
                beforeExclusive?.Invoke();
            }

            foreach (var (connection, transaction, statements) in deferred)
            {
                statements(connection, transaction);
            }

            deferred.Clear();
        }
    }
}

/// <summary>
/// Writes what FluentMigrator would execute as a script psql runs as is: each statement once,
/// ended by a semicolon, and each migration's heading as a <c>--</c> line. Not FluentMigrator's
/// SqlScript logger: it also echoes every statement inside <c>/* … */</c> (so each appears twice),
/// and a <c>*/</c> in the SQL (e.g. the regular expression <c>'^.*/'</c>) ends that comment early.
/// </summary>
internal sealed class PreviewSqlLoggerProvider(TextWriter output) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new PreviewSqlLogger(output);

    public void Dispose()
    {
    }

    private sealed class PreviewSqlLogger(TextWriter output)
        : FluentMigratorLogger(new FluentMigratorLoggerOptions { ShowSql = true, ShowElapsedTime = false })
    {
        protected override void WriteHeading(string message) => Comment(message);

        protected override void WriteSql(string sql)
        {
            var statement = sql.TrimEnd();
            output.WriteLine(statement.EndsWith(';') ? statement : statement + ";");
            output.WriteLine();
        }

        protected override void WriteEmptySql()
        {
        }

        // Say and Emphasize repeat the expressions (the SQL itself among them) and timings: not part of the script.
        protected override void WriteSay(string message)
        {
        }

        protected override void WriteEmphasize(string message)
        {
        }

        protected override void WriteElapsedTime(TimeSpan timeSpan)
        {
        }

        protected override void WriteError(string message) => Comment("error: " + message);

        protected override void WriteError(Exception exception) => Comment("error: " + exception.Message);

        private void Comment(string message)
        {
            foreach (var line in message.Split('\n'))
            {
                output.WriteLine("-- " + line.TrimEnd('\r'));
            }
        }
    }
}
