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
    public static RunningRunner Start(string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(DllPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Remove(ConnectionSettings.EnvironmentVariable);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
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

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        process.StandardInput.Close();
        return new RunningRunner(process, arguments);
    }
}

/// <summary>A runner process started by <see cref="RunnerProcess.Start"/>; its output is collected while it runs.</summary>
public sealed class RunningRunner : IDisposable
{
    private readonly Process process;
    private readonly string[] arguments;
    private readonly Task<string> stdout;
    private readonly Task<string> stderr;

    internal RunningRunner(Process process, string[] arguments)
    {
        this.process = process;
        this.arguments = arguments;
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

    /// <summary>Waits for the exit; kills it and fails the test after <paramref name="timeout"/>.</summary>
    public async Task<RunnerResult> WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"iamvet-schema {string.Join(' ', arguments)} did not finish within {timeout}\n{new RunnerResult(-1, await stdout, await stderr)}");
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
