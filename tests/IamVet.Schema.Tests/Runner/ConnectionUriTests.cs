namespace IamVet.Schema.Tests.Runner;

/// <summary>
/// A connection URI in Neon's console's form (<c>postgresql://user:pw@host/db?sslmode=require&amp;channel_binding=require</c>)
/// works from every configuration layer an operator can put it in (the flag, <c>IAMVET_SCHEMA_CONNECTION</c>,
/// <c>ConnectionStrings__IamVet</c>, appsettings.json), and a malformed URI or keyword string on any
/// of them is exit 2 naming the layer, never echoing the string or its password. (The forms
/// themselves: Configuration/PostgresUriTests; verify-full and a wrong CA: Operations/TlsTests.)
/// </summary>
[TestFixture]
public sealed class ConnectionUriTests : RunnerTest
{
    public enum Layer
    {
        Flag,
        RunnerVariable,
        StandardVariable,
        AppSettings,
    }

    [TestCase(Layer.Flag)]
    [TestCase(Layer.RunnerVariable)]
    [TestCase(Layer.StandardVariable)]
    [TestCase(Layer.AppSettings)]
    public async Task A_uri_in_Neons_console_form_works_from_every_layer_without_printing_the_password(Layer layer)
    {
        // Given the test database as Neon's console writes it: TLS required, channel binding required
        var settings = new NpgsqlConnectionStringBuilder(Database.ConnectionString);
        var uri = $"postgresql://{Uri.EscapeDataString(settings.Username!)}:{Uri.EscapeDataString(settings.Password!)}@{settings.Host}:{settings.Port}/{settings.Database}" +
                  "?sslmode=require&channel_binding=require";
        var (environment, arguments, source) = await PutAsync(layer, uri, ["status", "--json"]);

        // When
        var status = await RunAsync(environment, arguments);

        // Then
        Assert.That(status.ExitCode, Is.Zero, status.ToString());
        var connection = JsonNode.Parse(status.StandardOutput)!["settings"]!["connection"]!;
        Assert.That((string?)connection["source"], Is.EqualTo(source));
        Assert.That((string?)connection["value"], Is.EqualTo($"{settings.Username}@{settings.Host}:{settings.Port}/{settings.Database}"));
        Assert.That(status.Output, Does.Not.Contain(settings.Password).And.Not.Contain(Uri.EscapeDataString(settings.Password!)), "the password was printed");
    }

    private const string Secret = "NotEchoed-42";

    private static IEnumerable<TestCaseData> MalformedOnEveryLayer()
    {
        (string Text, string Message)[] malformed =
        [
            ($"postgresql://u:{Secret}@127.0.0.1/d?sslmod=require", "malformed connection URI from {0}: unknown parameter sslmod"),
            ($"postgresql://u:Not@Echoed-42@127.0.0.1/d", "malformed connection URI from {0}: a host name contains '@'"),
            ($"Host=127.0.0.1;Database=d;Password={Secret};Frobnicate=yes", "malformed connection string from {0}: unknown keyword 'frobnicate'"),
            ($"Host=127.0.0.1;Database=d;Password=\"{Secret}", "malformed connection string from {0}: it is neither Keyword=Value pairs"),
        ];
        foreach (var layer in Enum.GetValues<Layer>())
        {
            foreach (var (text, message) in malformed)
            {
                yield return new TestCaseData(layer, text, message);
            }
        }
    }

    [TestCaseSource(nameof(MalformedOnEveryLayer))]
    public async Task A_malformed_connection_string_on_any_layer_is_exit_2_naming_the_layer_and_echoing_nothing(Layer layer, string text, string message)
    {
        await CreateLegacyDatabaseWithRowsAsync();
        var before = await StateAsync();
        var (environment, arguments, source) = await PutAsync(layer, text, ["migrate", "up", "--yes"]);

        var result = await RunAsync(environment, arguments);

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.StandardError, Does.Contain(string.Format(CultureInfo.InvariantCulture, message, source)), result.ToString());
        Assert.That(result.Output, Does.Not.Contain("Echoed"), "the connection string or its password was echoed\n" + result);
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
    }

    /// <summary>Puts <paramref name="connection"/> on <paramref name="layer"/>: the runner's environment, its arguments, and the source <c>status</c> names.</summary>
    private async Task<(Dictionary<string, string?> Environment, string[] Arguments, string Source)> PutAsync(Layer layer, string connection, string[] arguments)
    {
        var environment = new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = null };
        switch (layer)
        {
            case Layer.Flag:
                return (environment, [.. arguments, "--connection", connection], "--connection");
            case Layer.RunnerVariable:
                environment[ConnectionSettings.EnvironmentVariable] = connection;
                return (environment, arguments, $"environment {ConnectionSettings.EnvironmentVariable}");
            case Layer.StandardVariable:
                environment["ConnectionStrings__IamVet"] = connection;
                return (environment, arguments, "environment ConnectionStrings__IamVet");
            default:
                var file = Path.Combine(WorkDirectory, "appsettings.json");
                await File.WriteAllTextAsync(file, new JsonObject { ["ConnectionStrings"] = new JsonObject { ["IamVet"] = connection } }.ToJsonString());
                return (environment, arguments, $"{file} (ConnectionStrings:IamVet)");
        }
    }
}
