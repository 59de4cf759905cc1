using Spectre.Console;

namespace IamVet.Schema.Runner.Pipeline.Reporting;

/// <summary>
/// A Spectre.Console progress bar on a terminal; plain progress lines on stderr when output is
/// redirected (logs, CI). Callers skip it entirely under --json.
/// </summary>
public static class ProgressDisplay
{
    public static async Task<T> RunAsync<T>(string title, long total, Func<Action<long, long>, Task<T>> work)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            var lastPercent = -1L;
            return await work((done, all) =>
            {
                var percent = all == 0 ? 100 : done * 100 / all;
                if (percent / 10 != lastPercent / 10 || done == all)
                {
                    lastPercent = percent;
                    Console.Error.WriteLine($"{title}: {done:N0}/{all:N0} ({percent}%)");
                }
            });
        }

        T result = default!;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: Math.Max(1, total));
                result = await work((done, all) =>
                {
                    task.MaxValue = Math.Max(1, all);
                    task.Value = done;
                });
                task.Value = task.MaxValue;
            });
        return result;
    }
}
