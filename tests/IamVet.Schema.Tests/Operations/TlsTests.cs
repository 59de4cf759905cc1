using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace IamVet.Schema.Tests.Operations;

/// <summary>
/// TLS with certificate verification, end to end, as Neon requires it: the throwaway cluster of
/// scripts/test.sh takes TLS with a certificate for 127.0.0.1 signed by a throwaway CA
/// (scripts/lib/pg-tls.sh, <c>IAMVET_TEST_TLS_CA</c>). With a connection URI in Neon's console's
/// form (<c>sslmode=verify-full</c>, <c>sslrootcert</c>, <c>channel_binding=require</c>) the runner
/// takes its backup, migrates up, rehearses and restores, and pg_dump/pg_restore connect over TLS
/// as well; with a CA that did not sign the server's certificate it is refused before anything changes.
/// </summary>
[TestFixture]
public sealed class TlsTests : OperationsTest
{
    public const string CaVariable = "IAMVET_TEST_TLS_CA";

    [Test]
    public async Task Verify_full_with_the_servers_CA_runs_up_with_its_backup_rehearse_and_restore_over_TLS()
    {
        // Given a legacy database, the connection as a URI with verify-full and the server's CA, and
        // pg_dump/pg_restore first on PATH that ask the server, with the runner's environment, whether they are on TLS
        await CreateLegacyDatabaseWithRowsAsync();
        var uri = UriFor(ServerCa(), "verify-full");
        var probe = Path.Combine(WorkDirectory, "tls.txt");
        var fakes = Directory.CreateDirectory(Path.Combine(WorkDirectory, "fake-bin")).FullName;
        foreach (var tool in new[] { "pg_dump", "pg_restore" })
        {
            PgClient.WriteScript(fakes, tool, $"""
                if [ -n "$PGHOST" ]; then
                  echo "{tool} $PGSSLMODE $('{PgClient.Which("psql")}' -XAt -d "$PGDATABASE" -c 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()' 2>&1)" >> '{probe}'
                fi
                exec '{PgClient.Which(tool)}' "$@"
                """);
        }

        var environment = new Dictionary<string, string?> { ["PATH"] = PgClient.PathWithFirst(fakes), [ConnectionSettings.EnvironmentVariable] = null };

        // When
        var up = await RunAsync(environment, "migrate", "up", "--yes", "--connection", uri);
        var rehearse = await RunAsync(environment, "rehearse", "--connection", uri);
        var dump = Path.Combine(BackupDirectory, BackupFiles().First(f => f.EndsWith(".dump", StringComparison.Ordinal)));
        var restore = await RunAsync(environment, "restore", "--from", dump, "--connection", uri);

        // Then each succeeded, and every pg_dump and pg_restore was on TLS with verify-full
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
        Assert.That(await AppliedAsync(), Does.Contain(Migrator.Expanded));
        Assert.That(rehearse.ExitCode, Is.Zero, rehearse.ToString());
        Assert.That(restore.ExitCode, Is.Zero, restore.ToString());
        Assert.That(await DerivedDatabasesAsync(), Has.Some.Property(nameof(ServerDatabase.Name)).Contains("_restore"), restore.ToString());
        var probes = await File.ReadAllLinesAsync(probe);
        Assert.That(probes, Has.Some.StartsWith("pg_dump").And.Some.StartsWith("pg_restore"), string.Join("\n", probes));
        Assert.That(probes, Is.All.EndsWith(" verify-full t"), "a client tool was not on TLS:\n" + string.Join("\n", probes));
        Assert.That(up.Output + rehearse.Output + restore.Output, Does.Not.Contain(Password), "the password was printed");
    }

    [Test]
    public async Task Verify_full_with_another_CA_is_refused_before_anything_changes()
    {
        // Given a legacy database and a CA that did not sign the server's certificate
        _ = ServerCa();
        await CreateLegacyDatabaseWithRowsAsync();
        var before = await StateAsync();
        var wrongCa = Path.Combine(WorkDirectory, "wrong-ca.crt");
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new CertificateRequest("CN=not the test server's CA", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
            using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(wrongCa, ca.ExportCertificatePem());
        }

        // When, through the environment's standard variable
        var environment = new Dictionary<string, string?>
        {
            [ConnectionSettings.EnvironmentVariable] = null,
            ["ConnectionStrings__IamVet"] = UriFor(wrongCa, "verify-full"),
        };
        var result = await RunAsync(environment, "migrate", "up", "--yes");

        // Then refused (exit 3), saying it is the certificate, with nothing changed and no backup
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(result.StandardError, Does.Contain("certificate").And.Contain("127.0.0.1"), result.ToString());
        Assert.That(result.Output, Does.Not.Contain(Password), "the password was printed");
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(BackupFiles(), Is.Empty, "a backup was taken\n" + result);
    }

    private string Password => new NpgsqlConnectionStringBuilder(Database.ConnectionString).Password ?? "";

    /// <summary>The test database as a URI in Neon's console's form, with <paramref name="sslmode"/> and the root certificate <paramref name="ca"/>.</summary>
    private string UriFor(string ca, string sslmode)
    {
        var settings = new NpgsqlConnectionStringBuilder(Database.ConnectionString);
        return $"postgresql://{Uri.EscapeDataString(settings.Username!)}:{Uri.EscapeDataString(settings.Password!)}@127.0.0.1:{settings.Port}/{settings.Database}" +
               $"?sslmode={sslmode}&sslrootcert={Uri.EscapeDataString(ca)}&channel_binding=require";
    }

    /// <summary>The CA that signed the test server's certificate; fails the test, saying how to provide it, when there is none.</summary>
    private static string ServerCa()
    {
        var path = Environment.GetEnvironmentVariable(CaVariable);
        if (string.IsNullOrWhiteSpace(path) || !File.Exists(path))
        {
            Assert.Fail($"{CaVariable} does not name a file: the TLS tests need the CA certificate that signed the test server's certificate " +
                        "(for 127.0.0.1). Run ./scripts/test.sh, whose throwaway cluster takes TLS (scripts/lib/pg-tls.sh), or export " +
                        $"{CaVariable}=/path/to/ca.crt for the server that {PostgresServer.EnvironmentVariable} names.");
        }

        return path!;
    }
}
