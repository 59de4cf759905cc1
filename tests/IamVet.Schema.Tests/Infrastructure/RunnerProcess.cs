namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>What one run of the built runner did; prints everything it said, for failure messages.</summary>
public sealed record RunnerResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>stdout and stderr together, for "the message says …" assertions that do not care where it went.</summary>
    public string Output => StandardOutput + "\n" + StandardError;

    public override string ToString() =>
        $"exit {ExitCode}\n----- stdout -----\n{StandardOutput}\n----- stderr -----\n{StandardError}\n------------------";
}

/// <summary>
/// Runs the built runner as a process (<c>dotnet iamvet-schema.dll …</c>, copied into the test
/// output by the project reference), the way an operator or a CI job runs it: stdin redirected and
/// closed (no terminal), its own working directory and environment. Nothing of the test process's
/// IAMVET_SCHEMA_CONNECTION leaks in; a null value in <c>environment</c> removes a variable.
/// </summary>
public static class RunnerProcess
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static string DllPath { get; } = Path.Combine(AppContext.BaseDirectory, "iamvet-schema.dll");

    public static async Task<RunnerResult> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        using var runner = Start(workingDirectory, environment, arguments);
        return await runner.WaitAsync(Timeout);
    }

    /// <summary>Starts the runner and returns at once, for tests that act on it while it runs (kill it, race it).</summary>
    public static RunningRunner Start(string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] arguments) =>
        StartCommand(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", [DllPath, .. arguments], workingDirectory,
            WithoutConnection(environment), $"iamvet-schema {string.Join(' ', arguments)}");

    /// <summary>
    /// <paramref name="environment"/> over one without the test process's IAMVET_SCHEMA_CONNECTION
    /// and with telemetry off: what a runner (or the installed tool) started by a test sees.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> WithoutConnection(IReadOnlyDictionary<string, string?> environment)
    {
        var merged = new Dictionary<string, string?>
        {
            [ConnectionSettings.EnvironmentVariable] = null,
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        };
        foreach (var (key, value) in environment)
        {
            merged[key] = value;
        }

        return merged;
    }

    /// <summary>
    /// Starts any command the same way (the runner, a script, the installed tool, <c>dotnet pack</c>):
    /// stdin closed, stdout and stderr collected while it runs, <paramref name="environment"/> applied
    /// over the test process's own (a null value removes a variable). <paramref name="description"/>
    /// names it in a failure message.
    /// </summary>
    public static RunningRunner StartCommand(
        string fileName, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string?> environment, string description)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        process.StandardInput.Close();
        return new RunningRunner(process, description);
    }
}

/// <summary>A process started by <see cref="RunnerProcess.StartCommand"/>; its output is collected while it runs.</summary>
public sealed class RunningRunner : IDisposable
{
    private readonly Process process;
    private readonly string description;
    private readonly Task<string> stdout;
    private readonly Task<string> stderr;

    internal RunningRunner(Process process, string description)
    {
        this.process = process;
        this.description = description;
        stdout = process.StandardOutput.ReadToEndAsync();
        stderr = process.StandardError.ReadToEndAsync();
    }

    public int Pid => process.Id;

    public bool HasExited => process.HasExited;

    /// <summary>SIGINT, what Ctrl-C sends: the runner cancels and cleans up.</summary>
    public void Interrupt()
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>SIGKILL: the runner gets no chance to clean up (what <c>kill -9</c> or the OOM killer does).</summary>
    public void KillHard() => process.Kill(entireProcessTree: false);

    /// <summary>
    /// Waits for the exit and the end of its output (a child it started may hold the pipes open: a
    /// script's server); kills it and fails the test after <paramref name="timeout"/>.
    /// </summary>
    public async Task<RunnerResult> WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
            await Task.WhenAll(stdout, stderr).WaitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"{description} did not finish within {timeout}\n" +
                        $"{new RunnerResult(-1, stdout.IsCompleted ? await stdout : "(still open)", stderr.IsCompleted ? await stderr : "(still open)")}");
        }

        return new RunnerResult(process.ExitCode, await stdout, await stderr);
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        process.Dispose();
    }
}
