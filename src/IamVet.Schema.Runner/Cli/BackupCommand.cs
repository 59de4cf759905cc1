using System.CommandLine;

namespace IamVet.Schema.Runner.Cli;

/// <summary><c>backup</c>: the pipeline's Lock, pre-flight and Backup stages on their own (same code), under the migration lock.</summary>
public static class BackupCommand
{
    public static Command Create(ILoggerFactory loggerFactory)
    {
        var command = CommonOptions.Define("backup", "Take a proven backup (pg_dump -Fc, read back, sha256, manifest) without migrating",
            CommonOptions.Connection, CommonOptions.BackupDirectory, CommonOptions.Json, CommonOptions.LockTimeout, CommonOptions.MinFreeSpace);

        command.SetAction(async (parse, cancel) =>
        {
            var options = CommonOptions.ToRunOptions(parse, "backup");
            var summary = await new MigrationPipeline(loggerFactory).BackupAsync(options, cancel);
            RunReport.Write(summary, options.Json);
            return summary.ExitCode;
        });
        return command;
    }
}
