using System.CommandLine;

namespace IamVet.Schema.Runner.Cli;

/// <summary><c>check</c>: the pre-flight and data audit of a <c>migrate up</c> (or down), read-only.</summary>
public static class CheckCommand
{
    private static readonly Option<bool> Down = new("--down") { Description = "Check a rollback to the baseline instead of an upgrade" };
    private static readonly Option<bool> CreateLegacySchema = new("--create-legacy-schema")
    {
        Description = "Accept an empty database (no users table, no migration history): check the plan of `migrate up --create-legacy-schema`; without it an empty database is refused (exit 3)",
    };

    private static readonly Option<bool> Cleanup = new("--cleanup") { Description = "Include the cleanup in the checked plan (up only)" };

    /// <summary>
    /// The pre-flight checks pg_dump/pg_restore and free space only for a run that will take a
    /// backup: <c>check --no-backup</c> checks the run of <c>migrate up/down --no-backup</c>.
    /// </summary>
    private static readonly Option<bool> NoBackup = new("--no-backup")
    {
        Description = "Check the plan of `migrate up/down --no-backup`: pg_dump, pg_restore and free space for the dump are not checked (the pre-flight notes this as a warning)",
    };

    public static Command Create(ILoggerFactory loggerFactory)
    {
        var command = CommonOptions.Define("check", "Pre-flight and data audit only: what `migrate up` would refuse or warn about; changes nothing",
            [Down, Cleanup, CreateLegacySchema, NoBackup, CommonOptions.OverwriteLegacyWrites, .. CommonOptions.CheckOptions]);
        command.SetAction(async (parse, cancel) =>
        {
            var direction = parse.GetValue(Down) ? MigrationDirection.Down : MigrationDirection.Up;
            var options = CommonOptions.ToRunOptions(parse, "check", direction) with
            {
                CheckOnly = true,
                Flags = parse.GetValue(Cleanup) ? ["--cleanup"] : [],
                CreateLegacySchema = parse.GetValue(CreateLegacySchema),
                NoBackup = parse.GetValue(NoBackup),
                OverwriteLegacyWrites = parse.GetValue(CommonOptions.OverwriteLegacyWrites),
            };
            CommonOptions.Validate(options);
            if (options.OverwriteLegacyWrites && direction == MigrationDirection.Up)
            {
                throw new ConfigurationException("--overwrite-legacy-writes is for a rollback: give it with --down");
            }

            var summary = await new MigrationPipeline(loggerFactory).RunAsync(options, cancel);
            RunReport.Write(summary, options.Json);
            return summary.ExitCode;
        });
        return command;
    }
}
