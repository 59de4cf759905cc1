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

    public static Command Create(ILoggerFactory loggerFactory)
    {
        var command = CommonOptions.Define("check", "Pre-flight and data audit only: what `migrate up` would refuse or warn about; changes nothing",
            [Down, Cleanup, CreateLegacySchema, .. CommonOptions.CheckOptions]);
        command.SetAction(async (parse, cancel) =>
        {
            var direction = parse.GetValue(Down) ? MigrationDirection.Down : MigrationDirection.Up;
            var options = CommonOptions.ToRunOptions(parse, "check", direction) with
            {
                CheckOnly = true,
                Flags = parse.GetValue(Cleanup) ? ["--cleanup"] : [],
                CreateLegacySchema = parse.GetValue(CreateLegacySchema),
            };
            CommonOptions.Validate(options);
            var summary = await new MigrationPipeline(loggerFactory).RunAsync(options, cancel);
            RunReport.Write(summary, options.Json);
            return summary.ExitCode;
        });
        return command;
    }
}
