using System.Text.RegularExpressions;

namespace IamVet.Schema.Runner.Configuration;

/// <summary>
/// The text forms of the runner's settings, the same whether they come from a flag, an environment
/// variable or appsettings.json: durations (<c>30s</c>, <c>5m</c>, <c>500ms</c>, a number of seconds),
/// sizes (<c>10GB</c>, <c>500MiB</c>, a number of bytes) and booleans. Errors are sentences for the
/// operator; no .NET type name ever reaches them.
/// </summary>
public static partial class SettingValues
{
    public const string DurationHint = "use e.g. 30s, 5m, 1h, 500ms or a number of seconds";

    public const string SizeHint = "use e.g. 10GB, 500MiB, 2.5TB or a number of bytes (KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB of 1024)";

    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var match = DurationPattern().Match(text?.Trim() ?? "");
        if (!match.Success)
        {
            return false;
        }

        var value = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
        var seconds = match.Groups["unit"].Value switch
        {
            "ms" => value / 1000,
            "m" or "min" => value * 60,
            "h" => value * 3600,
            _ => value,
        };
        if (seconds > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(seconds);
        return true;
    }

    public static bool TryParseSize(string? text, out long bytes)
    {
        bytes = 0;
        var match = SizePattern().Match(text?.Trim() ?? "");
        if (!match.Success)
        {
            return false;
        }

        var multiplier = match.Groups["unit"].Value.ToUpperInvariant() switch
        {
            "" or "B" => 1m,
            "KB" => 1e3m,
            "MB" => 1e6m,
            "GB" => 1e9m,
            "TB" => 1e12m,
            "KIB" => 1024m,
            "MIB" => 1024m * 1024,
            "GIB" => 1024m * 1024 * 1024,
            "TIB" => 1024m * 1024 * 1024 * 1024,
            _ => 0m,
        };
        if (multiplier == 0m || !decimal.TryParse(match.Groups["value"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        var total = decimal.Round(value * multiplier);
        if (total > long.MaxValue)
        {
            return false;
        }

        bytes = (long)total;
        return true;
    }

    public static bool TryParseBoolean(string? text, out bool value)
    {
        switch (text?.Trim().ToUpperInvariant())
        {
            case "TRUE" or "1" or "YES" or "ON":
                value = true;
                return true;
            case "FALSE" or "0" or "NO" or "OFF":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    /// <summary>A duration as the operator would type it: <c>10s</c>, <c>2m</c>, <c>1h</c>, <c>500ms</c>, <c>0</c>.</summary>
    public static string FormatDuration(TimeSpan duration) => duration switch
    {
        { Ticks: 0 } => "0",
        _ when duration.Ticks % TimeSpan.TicksPerHour == 0 => $"{(long)duration.TotalHours}h",
        _ when duration.Ticks % TimeSpan.TicksPerMinute == 0 => $"{(long)duration.TotalMinutes}m",
        _ when duration.Ticks % TimeSpan.TicksPerSecond == 0 => $"{(long)duration.TotalSeconds}s",
        _ => $"{duration.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)}ms",
    };

    [GeneratedRegex(@"^(?<value>\d+(?:\.\d+)?)(?<unit>ms|s|m|min|h)?$")]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"^(?<value>\d+(?:\.\d+)?)\s*(?<unit>[A-Za-z]+)?$")]
    private static partial Regex SizePattern();
}
