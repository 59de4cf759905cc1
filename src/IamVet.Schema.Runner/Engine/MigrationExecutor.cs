using System.Data;
using FluentMigrator.Runner;
using FluentMigrator.Runner.Processors;
using IamVet.Schema.Migrations;
using Microsoft.Extensions.DependencyInjection;
using FluentMigrator.Runner.Logging;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IamVet.Schema.Runner.Engine;

/// <summary>
/// Runs a <see cref="MigrationPlan"/> through the real FluentMigrator runner inside ONE
/// transaction that we own: every migration of the plan, its VersionInfo rows, and then the
/// caller's check (verification) run before COMMIT, so a failed check leaves nothing behind.
/// FluentMigrator's own per-migration transactions are switched off
/// (<c>useAutomaticTransactionManagement: false</c>) because the outer transaction replaces them.
/// </summary>
public sealed class MigrationExecutor(ILoggerFactory loggerFactory)
{
    /// <summary>
    /// Applies <paramref name="plan"/>. <paramref name="beforeMigrate"/> and <paramref name="beforeCommit"/>
    /// run on the migration's own connection and transaction, before the first migration and after
    /// the last; throwing from either rolls everything back.
    /// </summary>
    public void Apply(
        string connectionString,
        MigrationPlan plan,
        Func<NpgsqlConnection, NpgsqlTransaction, Task>? beforeMigrate = null,
        Func<NpgsqlConnection, NpgsqlTransaction, Task>? beforeCommit = null,
        Func<MigrationStep, TimeSpan, NpgsqlConnection, NpgsqlTransaction, Task>? afterEach = null)
    {
        using var services = BuildServices(connectionString, previewOnly: false, loggerFactory);
        using var scope = services.CreateScope();
        var runner = (MigrationRunner)scope.ServiceProvider.GetRequiredService<IMigrationRunner>();
        var processor = (GenericProcessorBase)runner.Processor;

        // FluentMigrator creates its VersionInfo table on first use and commits that on its own:
        // let it do so before our transaction begins (the table is its bookkeeping, not our data).
        runner.VersionLoader.LoadVersionInfo();
        processor.BeginTransaction();
        try
        {
            var connection = (NpgsqlConnection)processor.Connection;
            var transaction = (NpgsqlTransaction)processor.Transaction;
            beforeMigrate?.Invoke(connection, transaction).GetAwaiter().GetResult();

            // One step at a time, all inside the one transaction, so progress can be reported between
            // steps. ApplyMigrationUp/Down rather than MigrateUp/Down: FluentMigrator 8's MigrateUp first
            // "validates the connection" with BeginTransaction + RollbackTransaction, which would roll
            // back (and end) this transaction and leave the migrations to run in autocommit.
            var migrations = runner.MigrationLoader.LoadMigrations();
            foreach (var step in plan.Steps)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var migration = migrations[step.Version];
                if (plan.Direction == MigrationDirection.Up)
                {
                    runner.ApplyMigrationUp(migration, useTransaction: false);
                }
                else
                {
                    runner.ApplyMigrationDown(migration, useTransaction: false);
                }

                if (!ReferenceEquals(processor.Transaction, transaction))
                {
                    throw new InvalidOperationException("the migration transaction ended before COMMIT; nothing is committed");
                }

                afterEach?.Invoke(step, clock.Elapsed, connection, transaction).GetAwaiter().GetResult();
            }

            beforeCommit?.Invoke(connection, transaction).GetAwaiter().GetResult();
            processor.CommitTransaction();
        }
        catch
        {
            if (processor.Transaction is not null && processor.Connection.State == ConnectionState.Open)
            {
                processor.RollbackTransaction();
            }

            throw;
        }
    }

    /// <summary>
    /// Writes the SQL the plan would run to <paramref name="output"/>, executing nothing that
    /// changes the database (FluentMigrator's preview mode; it still connects to read VersionInfo).
    /// </summary>
    public static void Preview(string connectionString, MigrationPlan plan, TextWriter output)
    {
        using var sqlLogger = new SqlScriptFluentMigratorLoggerProvider(
            output, new SqlScriptFluentMigratorLoggerOptions { OutputSemicolonDelimiter = true }, disposeWriter: false);
        using var previewLogging = LoggerFactory.Create(logging => logging.AddProvider(sqlLogger));
        using var services = BuildServices(connectionString, previewOnly: true, previewLogging);
        using var scope = services.CreateScope();
        var runner = scope.ServiceProvider.GetRequiredService<IMigrationRunner>();
        if (plan.Direction == MigrationDirection.Up)
        {
            runner.MigrateUp(plan.TargetVersion);
        }
        else
        {
            runner.MigrateDown(plan.TargetVersion);
        }
    }

    /// <summary>
    /// Records <paramref name="step"/> as applied without running it, in FluentMigrator's own
    /// VersionInfo table (created if missing): how <c>baseline</c> adopts an existing database.
    /// </summary>
    public void RecordAsApplied(string connectionString, MigrationStep step)
    {
        using var services = BuildServices(connectionString, previewOnly: false, loggerFactory);
        using var scope = services.CreateScope();
        var runner = scope.ServiceProvider.GetRequiredService<IMigrationRunner>();
        var versions = ((MigrationRunner)runner).VersionLoader;
        versions.LoadVersionInfo();
        versions.UpdateVersionInfo(step.Version, step.Description);
    }

    private static ServiceProvider BuildServices(string connectionString, bool previewOnly, ILoggerFactory loggerFactory) =>
        new ServiceCollection()
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
