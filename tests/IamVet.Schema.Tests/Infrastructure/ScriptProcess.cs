namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>Runs one of the repository's shell scripts (<c>bash scripts/…</c>) from the repository root, as a person or CI would.</summary>
public static class ScriptProcess
{
    /// <summary>The repository root: the nearest folder above the test assembly that holds IamVet.Schema.sln.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static async Task<RunnerResult> RunAsync(string script, IReadOnlyDictionary<string, string?> environment, TimeSpan timeout, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
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

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
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
            Assert.Fail($"bash {script} {string.Join(' ', arguments)} did not finish within {timeout}\n" +
                        $"{new RunnerResult(-1, stdout.IsCompleted ? await stdout : "(still open)", stderr.IsCompleted ? await stderr : "(still open)")}");
        }

        return new RunnerResult(process.ExitCode, await stdout, await stderr);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "IamVet.Schema.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no IamVet.Schema.sln above {AppContext.BaseDirectory}: the script tests run from a repository checkout");
    }
}
