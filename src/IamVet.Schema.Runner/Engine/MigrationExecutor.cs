using System.Data;
using FluentMigrator.Runner;
using FluentMigrator.Runner.Processors;
using IamVet.Schema.Migrations;
using Microsoft.Extensions.DependencyInjection;
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
    /// Applies <paramref name="plan"/>. <paramref name="beforeCommit"/> sees the migrated database
    /// on the migration's own connection and transaction; throwing from it rolls everything back.
    /// </summary>
    public void Apply(
        string connectionString,
        MigrationPlan plan,
        Action<NpgsqlConnection, NpgsqlTransaction>? beforeCommit = null)
    {
        using var services = BuildServices(connectionString, previewOnly: false);
        using var scope = services.CreateScope();
        var runner = (MigrationRunner)scope.ServiceProvider.GetRequiredService<IMigrationRunner>();
        var processor = (GenericProcessorBase)runner.Processor;

        processor.BeginTransaction();
        try
        {
            if (plan.Direction == MigrationDirection.Up)
            {
                runner.MigrateUp(plan.TargetVersion, useAutomaticTransactionManagement: false);
            }
            else
            {
                runner.MigrateDown(plan.TargetVersion, useAutomaticTransactionManagement: false);
            }

            beforeCommit?.Invoke((NpgsqlConnection)processor.Connection, (NpgsqlTransaction)processor.Transaction);
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
    /// The SQL the plan would run, executing nothing that changes the database (FluentMigrator's
    /// preview mode; it still connects to read VersionInfo).
    /// </summary>
    public void Preview(string connectionString, MigrationPlan plan)
    {
        using var services = BuildServices(connectionString, previewOnly: true);
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

    private ServiceProvider BuildServices(string connectionString, bool previewOnly) =>
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
