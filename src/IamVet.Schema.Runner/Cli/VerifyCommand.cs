using System.CommandLine;

namespace IamVet.Schema.Runner.Cli;

/// <summary><c>verify</c>: the post-migration verification on demand, read-only (see <see cref="Inspection.VerifyAsync"/>).</summary>
public static class VerifyCommand
{
    public static Command Create()
    {
        var command = CommonOptions.Define("verify", "Compare the legacy and new tables now (read-only); exit 6 on any difference", CommonOptions.Connection, CommonOptions.Json);
        command.SetAction(async (parse, cancel) =>
        {
            var outcome = await Inspection.VerifyAsync(ConnectionSettings.Resolve(parse.GetValue(CommonOptions.Connection)), cancel);
            if (outcome.Result is null)
            {
                Console.Out.WriteLine("The cleanup has dropped the legacy columns: there is nothing left to compare.");
                return ExitCodes.Success;
            }

            var exitCode = outcome.Passed ? ExitCodes.Success : ExitCodes.VerificationFailed;
            if (parse.GetValue(CommonOptions.Json))
            {
                outcome.Result.Summary["exitCode"] = exitCode;
                Console.Out.WriteLine(outcome.Result.Summary.ToJsonString(RunReport.JsonOptions));
            }
            else
            {
                Console.Out.WriteLine(outcome.Tables.Count == 0
                    ? "No data-moving migration is applied: nothing to verify."
                    : outcome.Passed
                        ? $"verified: {string.Join(", ", outcome.Tables)} hold exactly what the legacy side holds"
                        : "differences (expected once the new application writes; a problem right after an up):\n  " + string.Join("\n  ", outcome.Result.Mismatches));
            }

            return exitCode;
        });
        return command;
    }
}
