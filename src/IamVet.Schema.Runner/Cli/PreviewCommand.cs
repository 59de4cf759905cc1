using System.CommandLine;

namespace IamVet.Schema.Runner.Cli;

/// <summary><c>preview up|down</c>: the SQL a migration run would execute, executing nothing.</summary>
public static class PreviewCommand
{
    private static readonly Option<long?> To = CommonOptions.VersionOption("--to",
        "Apply the pending migrations up to and including this version (12 digits, see `status`); past the expand phase only with --cleanup");
    private static readonly Option<long?> DownTo = CommonOptions.DownToOption();
    private static readonly Option<bool> Cleanup = new("--cleanup") { Description = "Include the cleanup that drops the moved columns from users" };
    private static readonly Option<int?> Steps = CommonOptions.DownStepsOption();
    private static readonly Option<FileInfo?> Output = new("--output", "-o") { Description = "Write the SQL to this file instead of stdout" };

    public static Command Create()
    {
        var command = new Command("preview", "Print the SQL that `migrate up` or `migrate down` would run; executes nothing");
        foreach (var direction in new[] { MigrationDirection.Up, MigrationDirection.Down })
        {
            var to = direction == MigrationDirection.Up ? To : DownTo;
            var sub = CommonOptions.Define(direction == MigrationDirection.Up ? "up" : "down", $"Preview `migrate {direction.ToString().ToLowerInvariant()}`",
                to, direction == MigrationDirection.Up ? Cleanup : Steps, Output, CommonOptions.Connection);
            sub.SetAction(async (parse, cancel) =>
            {
                var target = ConnectionSettings.Resolve(parse.GetValue(CommonOptions.Connection));
                CommonOptions.Validate(new RunOptions
                {
                    CommandName = "preview", Target = target, Direction = direction, TargetVersion = parse.GetValue(to), Steps = parse.GetValue(Steps),
                    Flags = direction == MigrationDirection.Up && parse.GetValue(Cleanup) ? ["--cleanup"] : [],
                });
                var plan = await Inspection.PlanAsync(target, direction, parse.GetValue(to), parse.GetValue(Steps),
                    direction == MigrationDirection.Up && parse.GetValue(Cleanup) ? ["--cleanup"] : [], cancel);
                var file = parse.GetValue(Output);
                var writer = file is null ? Console.Out : new StreamWriter(file.FullName);
                await writer.WriteLineAsync($"-- iamvet-schema preview: migrate {direction.ToString().ToLowerInvariant()} on {target.Database}, " +
                                            $"{plan.Steps.Count} migration(s): {string.Join(", ", plan.Steps.Select(s => s.Version))}");
                if (!plan.IsEmpty)
                {
                    await Inspection.PreviewAsync(target, plan, writer);
                }

                await writer.FlushAsync(cancel);
                if (file is not null)
                {
                    await writer.DisposeAsync();
                    await Console.Error.WriteLineAsync($"wrote {file.FullName}");
                }

                return ExitCodes.Success;
            });
            command.Subcommands.Add(sub);
        }

        return command;
    }
}
