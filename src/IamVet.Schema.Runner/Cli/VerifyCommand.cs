using System.CommandLine;
using System.Data;
using System.Text.Json;
using IamVet.Schema.Runner.Configuration;
using IamVet.Schema.Runner.Engine;
using IamVet.Schema.Runner.Pipeline;
using IamVet.Schema.Runner.Postgres;
using IamVet.Schema.Runner.Verification;
using Npgsql;

namespace IamVet.Schema.Runner.Cli;

/// <summary>
/// <c>verify</c>: the post-migration verification on demand, read-only, in one consistent
/// snapshot: do the new tables still hold exactly what the legacy columns hold? Right after an
/// up they must; once the new application writes, differences are expected and listed.
/// </summary>
public static class VerifyCommand
{
    public static Command Create()
    {
        var command = new Command("verify", "Compare the legacy and new tables now (read-only); exit 6 on any difference");
        command.Options.Add(CommonOptions.Connection);
        command.Options.Add(CommonOptions.Json);
        command.SetAction(async (parse, cancel) =>
        {
            var target = ConnectionSettings.Resolve(parse.GetValue(CommonOptions.Connection));
            await using var db = await ReadOnlyConnection.OpenAsync(target, "verify", cancel);
            var applied = await VersionHistory.ReadAppliedAsync(db, cancel);
            var steps = MigrationCatalog.All.Where(s => applied.Contains(s.Version) && Projections.For(s.Version) is not null).ToList();
            if (applied.Contains(202509291000))
            {
                Console.Out.WriteLine("The cleanup has dropped the legacy columns: there is nothing left to compare.");
                return ExitCodes.Success;
            }

            await using var transaction = await db.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancel);
            await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", db, transaction))
            {
                await readOnly.ExecuteNonQueryAsync(cancel);
            }

            var plan = new MigrationPlan(MigrationDirection.Up, applied.Count == 0 ? null : applied.Max(), applied.Count == 0 ? 0 : applied.Max(), steps);
            await using var baseline = await Verifier.CaptureAsync(db, transaction, plan, ReadOnlyConnection.ConnectionString(target, "verify"), cancel);
            var result = await Verifier.VerifyAsync(db, transaction, plan, baseline, null, cancel);
            await transaction.RollbackAsync(cancel);

            if (parse.GetValue(CommonOptions.Json))
            {
                result.Summary["exitCode"] = result.Passed ? ExitCodes.Success : ExitCodes.VerificationFailed;
                Console.Out.WriteLine(result.Summary.ToJsonString(Pipeline.Reporting.RunReport.JsonOptions));
            }
            else
            {
                Console.Out.WriteLine(steps.Count == 0
                    ? "No data-moving migration is applied: nothing to verify."
                    : result.Passed
                        ? $"verified: {string.Join(", ", steps.Select(s => Projections.For(s.Version)!.Table))} hold exactly what the legacy side holds"
                        : "differences (expected once the new application writes; a problem right after an up):\n  " + string.Join("\n  ", result.Mismatches));
            }

            return result.Passed ? ExitCodes.Success : ExitCodes.VerificationFailed;
        });
        return command;
    }
}
