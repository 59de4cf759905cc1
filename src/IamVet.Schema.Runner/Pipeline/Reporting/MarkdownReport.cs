using System.Text;

namespace IamVet.Schema.Runner.Pipeline.Reporting;

/// <summary>
/// A Markdown run report written next to the backup for every migrate and rehearse run: stages,
/// timings, counts per type before and after, the backup file and the verification results. It is
/// what an operator attaches to the change ticket.
/// </summary>
public static class MarkdownReport
{
    public static string Render(RunSummary summary, string? title = null)
    {
        var (context, results) = (summary.Context, summary.Results);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# {title ?? context.Options.CommandName} on `{context.DatabaseName}`");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"- Result: **{summary.Status}** (exit {summary.ExitCode}): {summary.Message}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- Started: {context.StartedAt:yyyy-MM-dd HH:mm:ss} UTC, took {context.Clock.Elapsed.TotalSeconds:0.0} s");
        text.AppendLine(CultureInfo.InvariantCulture, $"- Server: {context.Options.Target.Server}, PostgreSQL {results.Preflight?.ServerVersion ?? "?"}");
        if (results.Plan is { } plan)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- Plan: {plan.Direction.ToString().ToLowerInvariant()} {plan.FromVersion?.ToString(CultureInfo.InvariantCulture) ?? "empty"} → {plan.ResultVersion}, {plan.Steps.Count} migration(s)");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"- Backup: {(results.Backup is { } b ? $"`{b.DumpPath}` (sha256 `{b.Sha256}`)" : "none")}");
        if (results.LogRowId is { } id)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- migration_log id: {id}");
        }

        text.AppendLine();
        text.AppendLine("## Stages");
        text.AppendLine();
        text.AppendLine("| Stage | Result | Time (s) | Details |");
        text.AppendLine("|---|---|---:|---|");
        foreach (var stage in results.Stages)
        {
            var details = string.Join("<br>", new[] { stage.Summary }.Concat(stage.Notes).Select(Escape));
            text.AppendLine(CultureInfo.InvariantCulture, $"| {stage.Stage} | {stage.Status} | {stage.Duration.TotalSeconds:0.00} | {details} |");
        }

        if (results.Verification?.Result.Summary["tables"] is JsonObject tables && tables.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("## Verification");
            text.AppendLine();
            text.AppendLine("| Table | Source rows (all) | Source rows (active) | Rows after | Fingerprints equal |");
            text.AppendLine("|---|---:|---:|---:|---|");
            foreach (var (table, node) in tables)
            {
                var entry = node!.AsObject();
                var after = entry["newRows"] ?? entry["legacyRows"];
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {table} | {entry["sourceRowsAll"] ?? entry["newRowsBefore"]} | {entry["sourceRowsActive"]?.ToString() ?? "–"} | {after} | {entry["fingerprintMatch"]} |");
            }
        }

        return text.ToString();
    }

    /// <summary>Writes the report into <paramref name="directory"/> (created 0700, like the backup directory), readable by its owner only (0600), and returns its path.</summary>
    public static string Write(RunSummary summary, string directory, string? title = null)
    {
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var context = summary.Context;
        var name = $"{context.DatabaseName}_{context.StartedAt:yyyyMMdd'T'HHmmss'Z'}_{context.Options.CommandName.Replace(' ', '-')}.report.md";
        var path = Path.GetFullPath(Path.Combine(directory, name));
        // Like the dump and its manifest: the report names the server, the database and the backup file.
        using (var file = new FileStream(path, new FileStreamOptions
               {
                   Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
               }))
        using (var writer = new StreamWriter(file))
        {
            writer.Write(Render(summary, title));
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private static string Escape(string value) => value.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", "<br>", StringComparison.Ordinal);
}
