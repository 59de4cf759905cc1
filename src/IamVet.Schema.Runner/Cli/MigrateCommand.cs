using System.CommandLine;

namespace IamVet.Schema.Runner.Cli;

/// <summary><c>migrate up</c> and <c>migrate down</c>: the full pipeline.</summary>
public static class MigrateCommand
{
    private static readonly Option<long?> To = CommonOptions.VersionOption("--to",
        "Apply the pending migrations up to and including this version (12 digits, see `status`): at most the last migration before the cleanup, unless --cleanup is given");
    private static readonly Option<long?> DownTo = CommonOptions.DownToOption();
    private static readonly Option<bool> Cleanup = new("--cleanup")
    {
        Description = "Also apply the cleanup that drops the moved columns from users; the only way to it, from any starting point (a plain up, or an up --to past the expand phase, never applies it)",
    };
    private static readonly Option<int?> Steps = CommonOptions.DownStepsOption();

    public static Command Create(ILoggerFactory loggerFactory)
    {
        var up = CommonOptions.Define("up", "Apply pending migrations through the pipeline (stops before the cleanup unless --cleanup)",
            [To, Cleanup, CommonOptions.CreateLegacySchema, .. CommonOptions.RunOptions]);
        up.SetAction((parse, cancel) => RunAsync(parse, MigrationDirection.Up, loggerFactory, cancel));

        var down = CommonOptions.Define("down", "Roll back applied migrations (default: to the legacy baseline), putting every value back",
            [DownTo, Steps, CommonOptions.OverwriteLegacyWrites, .. CommonOptions.RunOptions]);
        down.SetAction((parse, cancel) => RunAsync(parse, MigrationDirection.Down, loggerFactory, cancel));

        var migrate = new Command("migrate", "Move the database between the legacy and normalized shapes");
        migrate.Subcommands.Add(up);
        migrate.Subcommands.Add(down);
        return migrate;
    }

    /// <summary>
    /// The Markdown report (0600) goes next to the backup, in the backup directory; its path goes to
    /// stderr (stdout may be --json). With --no-backup there is no backup to lie beside: no report
    /// file, and stderr says so (rehearse, which always has its backup, passes <paramref name="besideABackup"/>).
    /// </summary>
    internal static void WriteMarkdownReport(RunSummary summary, bool besideABackup = false)
    {
        if (!besideABackup && summary.Context.Options.NoBackup)
        {
            Console.Error.WriteLine("report: not written (--no-backup: the Markdown report is written beside a backup only; the console table or --json and the migration_log row hold the run's outcome)");
            return;
        }

        try
        {
            var path = MarkdownReport.Write(summary, summary.Context.Options.BackupDirectory);
            Console.Error.WriteLine($"report: {path}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"warning: could not write the Markdown report: {ex.Message}");
        }
    }

    private static async Task<int> RunAsync(ParseResult parse, MigrationDirection direction, ILoggerFactory loggerFactory, CancellationToken cancel)
    {
        var name = direction == MigrationDirection.Up ? "migrate up" : "migrate down";
        var options = CommonOptions.ToRunOptions(parse, name, direction) with
        {
            TargetVersion = parse.GetValue(direction == MigrationDirection.Up ? To : DownTo),
            Steps = direction == MigrationDirection.Down ? parse.GetValue(Steps) : null,
            Flags = direction == MigrationDirection.Up && parse.GetValue(Cleanup) ? ["--cleanup"] : [],
            CreateLegacySchema = direction == MigrationDirection.Up && parse.GetValue(CommonOptions.CreateLegacySchema),
            OverwriteLegacyWrites = direction == MigrationDirection.Down && parse.GetValue(CommonOptions.OverwriteLegacyWrites),
        };

        // Usage errors first, before anything connects: they write nothing anywhere.
        CommonOptions.Validate(options);
        CommonOptions.RequireYesOrTerminal(options, name);

        // Then the plan, from the applied versions, shown before the question (and with --yes, as the run's header).
        var (plan, refusal, route) = await Inspection.PlanForRunAsync(options, cancel);
        options = options with { CheckedRoute = route };
        if (plan is not null)
        {
            if (!CommonOptions.Confirm(options, name, PlanText.Lines(plan)))
            {
                return CommonOptions.NotConfirmed();
            }

            options = options with { ShownPlan = plan };
        }
        else
        {
            // Pre-flight refuses this database as it is, before anything changes: nothing to ask about.
            (options.Json ? Console.Error : Console.Out).WriteLine($"{name} on database \"{options.Target.Database}\" at {options.Target.Server}: no plan, {refusal}");
        }

        var summary = await new MigrationPipeline(loggerFactory).RunAsync(options, cancel);
        RunReport.Write(summary, options.Json);
        WriteMarkdownReport(summary);
        return summary.ExitCode;
    }
}
