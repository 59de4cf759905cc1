using System.CommandLine;

namespace IamVet.Schema.Runner.Cli;

/// <summary><c>baseline</c>: adopts an existing legacy database (see <see cref="Baselining"/>).</summary>
public static class BaselineCommand
{
    public static Command Create(ILoggerFactory loggerFactory)
    {
        var command = CommonOptions.Define("baseline", "Adopt an existing legacy database: check its shape, then record the legacy baseline as applied",
            CommonOptions.Connection, CommonOptions.Yes, CommonOptions.LockTimeout);
        command.SetAction(async (parse, cancel) =>
        {
            var settings = CommonOptions.ResolveSettings(parse);
            var options = new RunOptions
            {
                CommandName = "baseline",
                Target = settings.Target,
                Yes = parse.GetValue(CommonOptions.Yes),
                LockTimeout = settings.LockTimeout.Value,
            };
            if (!CommonOptions.Confirm(options, $"record {MigrationCatalog.Baseline.Version} (legacy baseline) as applied"))
            {
                return CommonOptions.NotConfirmed();
            }

            var outcome = await Baselining.RunAsync(options, loggerFactory, cancel);
            Console.Out.WriteLine(outcome.AlreadyApplied
                ? $"Nothing to do: {outcome.Database} already has {outcome.Version} in its migration history."
                : $"Baselined {outcome.Database}: {outcome.TablesMatched} legacy tables match; {outcome.Version} recorded as applied. Next: `check`, then `migrate up`.");
            return ExitCodes.Success;
        });
        return command;
    }
}
