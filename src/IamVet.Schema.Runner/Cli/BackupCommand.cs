using System.CommandLine;
using IamVet.Schema.Runner.Pipeline;
using IamVet.Schema.Runner.Pipeline.Reporting;
using IamVet.Schema.Runner.Pipeline.Stages;

namespace IamVet.Schema.Runner.Cli;

/// <summary><c>backup</c>: the pipeline's backup stage on its own (same code), under the migration lock.</summary>
public static class BackupCommand
{
    public static Command Create()
    {
        var command = new Command("backup", "Take a proven backup (pg_dump -Fc, read back, sha256, manifest) without migrating");
        foreach (var option in new System.CommandLine.Option[]
                 { CommonOptions.Connection, CommonOptions.BackupDirectory, CommonOptions.Json, CommonOptions.LockTimeout, CommonOptions.MinFreeSpace })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancel) =>
        {
            var options = CommonOptions.ToRunOptions(parse, "backup");
            var summary = await RunAsync(options, cancel);
            RunReport.Write(summary, options.Json);
            await summary.Context.DisposeAsync();
            return summary.ExitCode;
        });
        return command;
    }

    /// <summary>Lock, check the tools and the space, take the backup: also the first step of <c>rehearse</c>.</summary>
    internal static async Task<RunSummary> RunAsync(RunOptions options, CancellationToken cancellationToken)
    {
        var context = new RunContext(options);
        try
        {
            foreach (var stage in new IStage[] { new LockStage(), new BackupToolsStage(), new BackupStage() })
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                try
                {
                    var result = await stage.RunAsync(context, cancellationToken);
                    context.Stages.Add(result with { Duration = clock.Elapsed });
                }
                catch (PipelineStopped stopped)
                {
                    context.Stages.Add(new StageResult(stage.Name, StageStatus.Fail, clock.Elapsed, stopped.Message, []));
                    throw;
                }
            }

            return new RunSummary(ExitCodes.Success, LogStatuses.Success, $"backup written: {context.Backup!.DumpPath}", context);
        }
        catch (PipelineStopped stopped)
        {
            return new RunSummary(stopped.ExitCode, stopped.LogStatus, stopped.Message, context);
        }
    }

    /// <summary>The pre-flight checks a backup needs: server version, pg_dump/pg_restore, free space.</summary>
    private sealed class BackupToolsStage : IStage
    {
        public string Name => "Pre-flight";

        public async Task<StageResult> RunAsync(RunContext context, CancellationToken cancellationToken)
        {
            var connection = context.LockConnection!;
            await using (var version = new Npgsql.NpgsqlCommand("SELECT current_setting('server_version'), current_setting('server_version_num')::int / 10000", connection))
            await using (var reader = await version.ExecuteReaderAsync(cancellationToken))
            {
                await reader.ReadAsync(cancellationToken);
                context.ServerVersion = reader.GetString(0);
                context.ServerMajor = reader.GetInt32(1);
            }

            context.AppliedBefore = await Postgres.VersionHistory.ReadAppliedAsync(connection, cancellationToken);
            return new StageResult(Name, StageStatus.Pass, TimeSpan.Zero, $"PostgreSQL {context.ServerVersion}",
                [PreflightStage.CheckTools(context), await PreflightStage.CheckBackupSpaceAsync(context, connection, cancellationToken)]);
        }
    }
}
