using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace IamVet.Schema.Runner.Backup;

/// <summary>A PostgreSQL client program found on PATH (or another search path), with its major version.</summary>
public sealed record PgTool(string Name, string Path, string Version, int Major);

/// <summary>The result of running a client program.</summary>
public sealed record ToolRun(int ExitCode, string StandardOutput, string StandardError, TimeSpan Duration);

/// <summary>
/// Finds and runs pg_dump / pg_restore. Connection facts go to the child through libpq's
/// environment (<see cref="Postgres.MigrationDatabase.ClientEnvironment"/>), never its arguments,
/// so no password shows in /proc/&lt;pid&gt;/cmdline or ps.
/// </summary>
public static partial class PgTools
{
    /// <summary>
    /// The first <paramref name="name"/> on <paramref name="searchPath"/> (directories separated as
    /// on PATH; PATH itself when null), with the version it reports; null when there is none.
    /// </summary>
    public static PgTool? Find(string name, string? searchPath = null)
    {
        var path = (searchPath ?? Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => System.IO.Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
        if (path is null)
        {
            return null;
        }

        var run = Run(path, ["--version"], environment: null, TimeSpan.FromSeconds(30));
        var match = VersionPattern().Match(run.StandardOutput);
        if (run.ExitCode != 0 || !match.Success)
        {
            return new PgTool(name, path, run.StandardOutput.Trim(), 0);
        }

        return new PgTool(name, path, match.Groups[0].Value, int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Runs <paramref name="path"/> and collects its output. <paramref name="progressLine"/> sees each
    /// line of standard error as it comes; a line it returns true for was only progress (a
    /// <c>--verbose</c> line) and is left out of <see cref="ToolRun.StandardError"/>.
    /// </summary>
    /// <para>
    /// When <paramref name="cancellationToken"/> fires (Ctrl-C, SIGTERM) the program is killed, with
    /// its children, and <see cref="OperationCanceledException"/> is thrown: it must not outlive the
    /// run that started it.
    /// </para>
    public static ToolRun Run(string path, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?>? environment, TimeSpan timeout,
        Func<string, bool>? progressLine = null, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {path}");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { stdout.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null && progressLine?.Invoke(e.Data) != true)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var onCancel = cancellationToken.Register(() =>
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // it had exited already
            }
        });
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new ToolRun(-1, stdout.ToString(), $"{stderr}\n{System.IO.Path.GetFileName(path)} did not finish within {timeout}", clock.Elapsed);
        }

        process.WaitForExit();
        cancellationToken.ThrowIfCancellationRequested();
        return new ToolRun(process.ExitCode, stdout.ToString(), stderr.ToString(), clock.Elapsed);
    }

    /// <summary>Lines of a client program's standard error that are never mere progress.</summary>
    private static readonly string[] Kept = ["error:", "warning:", "detail:", "hint:", "fatal:"];

    /// <summary>
    /// A progress counter over <c>--verbose</c> output: counts the lines that contain
    /// <paramref name="marker"/> (one per table) and reports them; every verbose line that is not an
    /// error, warning, detail or hint is consumed.
    /// </summary>
    public static Func<string, bool> TableProgress(string marker, long total, Action<long, long> progress)
    {
        var done = 0L;
        return line =>
        {
            if (Kept.Any(word => line.Contains(word, StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }

            if (line.Contains(marker, StringComparison.Ordinal))
            {
                progress(Math.Min(total, Interlocked.Increment(ref done)), total);
            }

            return true;
        };
    }

    [GeneratedRegex(@"(\d+)(?:\.\d+)+")]
    private static partial Regex VersionPattern();
}
