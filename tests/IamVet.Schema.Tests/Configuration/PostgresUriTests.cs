namespace IamVet.Schema.Tests.Configuration;

/// <summary>
/// libpq's connection URIs (the forms its documentation shows, and Neon's console's) read into
/// Npgsql's settings and into pg_dump's environment; every malformed one, and every malformed
/// <c>Keyword=Value</c> string, refused with a message that names what is wrong and never a value.
/// The runner-as-a-process side, each configuration layer: Runner/ConnectionUriTests.
/// </summary>
[TestFixture]
public sealed class PostgresUriTests
{
    private const string Secret = "NotEchoed-42";

    [TestCase("postgresql://localhost/mydb", "localhost", 5432, "mydb", null, null)]
    [TestCase("postgresql://localhost:5433/mydb", "localhost", 5433, "mydb", null, null)]
    [TestCase("postgresql://user@localhost/mydb", "localhost", 5432, "mydb", "user", null)]
    [TestCase("postgresql://user:secret@localhost/mydb", "localhost", 5432, "mydb", "user", "secret")]
    [TestCase("postgres://user:secret@localhost/mydb", "localhost", 5432, "mydb", "user", "secret")]
    [TestCase("POSTGRESQL://user@localhost/mydb", "localhost", 5432, "mydb", "user", null)]
    [TestCase("postgresql:///mydb?host=localhost&port=5433", "localhost", 5433, "mydb", null, null)]
    [TestCase("postgresql://elsewhere:1/mydb?host=localhost&port=5433&dbname=other&user=u&password=p", "localhost", 5433, "other", "u", "p")]
    [TestCase("postgresql://[2001:db8::1234]/database", "2001:db8::1234", 5432, "database", null, null)]
    [TestCase("postgresql://[::1]:5433/database", "::1", 5433, "database", null, null)]
    [TestCase("postgresql:///dbname?host=/var/lib/postgresql", "/var/lib/postgresql", 5432, "dbname", null, null)]
    [TestCase("postgresql://%2Fvar%2Flib%2Fpostgresql/dbname", "/var/lib/postgresql", 5432, "dbname", null, null)]
    [TestCase("postgresql://u%C3%A9%40x:p%40ss%3Aw%2Fo%3Frd%23%25+1@localhost/d%C3%A9b", "localhost", 5432, "déb", "ué@x", "p@ss:w/o?rd#%+1")]
    [TestCase("postgresql://user:pa?ss&w=rd@localhost/mydb", "localhost", 5432, "mydb", "user", "pa?ss&w=rd")]
    public void Reads_libpqs_documented_forms(string uri, string host, int port, string database, string? user, string? password)
    {
        var target = ConnectionTarget.Parse(uri);
        var settings = target.Settings();

        Assert.That(target.Endpoints, Is.EqualTo(new[] { (host, port) }));
        Assert.That(target.Database, Is.EqualTo(database));
        Assert.That(settings.Username, Is.EqualTo(user));
        Assert.That(settings.Password, Is.EqualTo(password));
    }

    [Test]
    public void Reads_a_uri_from_Neons_console_with_TLS_and_channel_binding()
    {
        var target = ConnectionTarget.Parse(
            "postgresql://neondb_owner:npg_AbC123xyz@ep-cool-darkness-a1b2c3d4.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require");
        var settings = target.Settings();

        Assert.That(target.Server, Is.EqualTo("ep-cool-darkness-a1b2c3d4.eu-central-1.aws.neon.tech:5432"));
        Assert.That(target.Display, Is.EqualTo("neondb_owner@ep-cool-darkness-a1b2c3d4.eu-central-1.aws.neon.tech:5432/neondb"));
        Assert.That(settings.Password, Is.EqualTo("npg_AbC123xyz"));
        Assert.That(settings.SslMode, Is.EqualTo(SslMode.Require));
        Assert.That(settings.ChannelBinding, Is.EqualTo(ChannelBinding.Require));

        var environment = new MigrationDatabase(target).ClientEnvironment(Roles.PgDump);
        Assert.That(environment["PGSSLMODE"], Is.EqualTo("require"));
        Assert.That(environment["PGCHANNELBINDING"], Is.EqualTo("require"));
        Assert.That(environment["PGHOST"], Is.EqualTo("ep-cool-darkness-a1b2c3d4.eu-central-1.aws.neon.tech"));
        Assert.That(environment["PGPASSWORD"], Is.EqualTo("npg_AbC123xyz"));
    }

    [Test]
    public void Reads_the_documented_parameters_into_Npgsqls_settings_and_pg_dumps_environment()
    {
        var target = ConnectionTarget.Parse(
            "postgresql://other@localhost/otherdb?connect_timeout=10&application_name=myapp&options=-c%20synchronous_commit%3Doff" +
            "&sslmode=verify-full&sslrootcert=/etc/ca.crt&sslcert=/etc/client.crt&sslkey=/etc/client.key&sslpassword=kp" +
            "&channel_binding=disable&target_session_attrs=read-write&keepalives_idle=30&client_encoding=UTF8");
        var settings = target.Settings();

        Assert.That(settings.Timeout, Is.EqualTo(10));
        Assert.That(settings.ApplicationName, Is.EqualTo("myapp"));
        Assert.That(settings.Options, Is.EqualTo("-c synchronous_commit=off"));
        Assert.That(settings.SslMode, Is.EqualTo(SslMode.VerifyFull));
        Assert.That(settings.RootCertificate, Is.EqualTo("/etc/ca.crt"));
        Assert.That(settings.SslCertificate, Is.EqualTo("/etc/client.crt"));
        Assert.That(settings.SslKey, Is.EqualTo("/etc/client.key"));
        Assert.That(settings.SslPassword, Is.EqualTo("kp"));
        Assert.That(settings.ChannelBinding, Is.EqualTo(ChannelBinding.Disable));
        Assert.That(settings.TargetSessionAttributes, Is.EqualTo("read-write"));
        Assert.That(settings.TcpKeepAliveTime, Is.EqualTo(30));
        Assert.That(settings.ClientEncoding, Is.EqualTo("UTF8"));

        var environment = new MigrationDatabase(target).ClientEnvironment(Roles.PgDump);
        Assert.That(environment["PGSSLMODE"], Is.EqualTo("verify-full"));
        Assert.That(environment["PGSSLROOTCERT"], Is.EqualTo("/etc/ca.crt"));
        Assert.That(environment["PGSSLCERT"], Is.EqualTo("/etc/client.crt"));
        Assert.That(environment["PGSSLKEY"], Is.EqualTo("/etc/client.key"));
        Assert.That(environment["PGCHANNELBINDING"], Is.EqualTo("disable"));
        Assert.That(environment["PGTARGETSESSIONATTRS"], Is.EqualTo("read-write"));
        Assert.That(environment["PGCONNECT_TIMEOUT"], Is.EqualTo("10"));
        Assert.That(environment["PGAPPNAME"], Is.EqualTo("iamvet-schema pg_dump"), "the runner names its connections itself");
    }

    [TestCase("disable", SslMode.Disable)]
    [TestCase("allow", SslMode.Allow)]
    [TestCase("prefer", SslMode.Prefer)]
    [TestCase("require", SslMode.Require)]
    [TestCase("verify-ca", SslMode.VerifyCA)]
    [TestCase("verify-full", SslMode.VerifyFull)]
    public void Every_sslmode_reaches_Npgsql_and_pg_dump_alike(string mode, SslMode expected)
    {
        var target = ConnectionTarget.Parse($"postgresql://u@h/d?sslmode={mode}&sslrootcert=/ca.crt");

        Assert.That(target.Settings().SslMode, Is.EqualTo(expected));
        Assert.That(new MigrationDatabase(target).ClientEnvironment(Roles.PgDump)["PGSSLMODE"], Is.EqualTo(mode));
    }

    [Test]
    public void Without_a_root_certificate_verify_full_uses_the_systems_CAs_for_Npgsql_and_pg_dump_alike()
    {
        foreach (var uri in new[] { "postgresql://u@h/d?sslmode=verify-full", "postgresql://u@h/d?sslmode=verify-full&sslrootcert=system" })
        {
            var target = ConnectionTarget.Parse(uri);

            Assert.That(target.Settings().RootCertificate, Is.Null, uri);
            Assert.That(new MigrationDatabase(target).ClientEnvironment(Roles.PgDump)["PGSSLROOTCERT"], Is.EqualTo("system"), uri);
        }

        Assert.That(new MigrationDatabase(ConnectionTarget.Parse("postgresql://u@h/d?sslmode=require")).ClientEnvironment(Roles.PgDump),
            Does.Not.ContainKey("PGSSLROOTCERT"), "an operator's own PGSSLROOTCERT stays in force where the connection names none");
        Assert.That(ConnectionTarget.Parse("postgresql://u@h/d?ssl=true").Settings().SslMode, Is.EqualTo(SslMode.Require), "JDBC's ssl=true");
    }

    [TestCase("postgresql://host1:123,host2:456/somedb?target_session_attrs=any&application_name=myapp", "host1:123,host2:456", "host1,host2", "123,456")]
    [TestCase("postgresql://host1,host2/somedb?port=6000", "host1:6000,host2:6000", "host1,host2", "6000,6000")]
    [TestCase("postgresql://host1:1,host2:,host3/somedb", "host1:1,host2:5432,host3:5432", "host1,host2,host3", "1,5432,5432")]
    [TestCase("postgresql://[::1]:5433,[2001:db8::1]/somedb", "[::1]:5433,[2001:db8::1]:5432", "::1,2001:db8::1", "5433,5432")]
    [TestCase("postgresql:///somedb?host=host1,host2&port=1,2", "host1:1,host2:2", "host1,host2", "1,2")]
    public void Several_hosts_are_tried_in_order_by_Npgsql_and_pg_dump_alike(string uri, string server, string pgHost, string pgPort)
    {
        var target = ConnectionTarget.Parse(uri);
        var environment = new MigrationDatabase(target).ClientEnvironment(Roles.PgDump);

        Assert.That(target.Server, Is.EqualTo(server));
        Assert.That(environment["PGHOST"], Is.EqualTo(pgHost));
        Assert.That(environment["PGPORT"], Is.EqualTo(pgPort));
        using var source = NpgsqlDataSource.Create(target.Settings().ConnectionString);
        Assert.That(source, Is.InstanceOf<NpgsqlMultiHostDataSource>(), "Npgsql reads the host list as several hosts");
    }

    private static IEnumerable<TestCaseData> Malformed()
    {
        TestCaseData Case(string uri, string message, string name) => new TestCaseData(uri, message).SetName(name);
        yield return Case($"postgresql://u:{Secret}@h/d?sslmod=require", "unknown parameter sslmod", "An_unknown_parameter_is_named");
        yield return Case($"postgresql://u:{Secret}@h/d?hostaddr=10.0.0.1", "the parameter hostaddr is libpq's, but the runner has no equivalent", "A_libpq_parameter_without_an_equivalent_is_named");
        yield return Case($"postgresql://u:{Secret}@h/d?{Secret}%20x=1", "unknown parameter (a name that is not a libpq parameter's)", "A_parameter_name_that_is_no_name_is_not_echoed");
        yield return Case($"postgresql://u:{Secret}@h/d?sslmode=verify-{Secret}", "the value of sslmode is not valid: use disable, allow", "A_bad_sslmode_names_the_choices_not_the_value");
        yield return Case($"postgresql://u:{Secret}@h/d?channel_binding={Secret}", "the value of channel_binding is not valid", "A_bad_channel_binding");
        yield return Case($"postgresql://u:{Secret}@h/d?connect_timeout={Secret}", "the value of connect_timeout is not valid: use a whole number", "A_bad_connect_timeout");
        yield return Case($"postgresql://u:{Secret}@h/d?sslmode", "a query parameter has no '='", "A_parameter_without_a_value");
        yield return Case($"postgresql://u:{Secret}@h/d?options=-c%20a=b", "a second '='", "A_value_with_an_unencoded_equals_sign");
        yield return Case($"postgresql://u:{Secret}@[::1/d", "no closing ']'", "An_IPv6_address_without_its_bracket");
        yield return Case($"postgresql://u:{Secret}@[]/d", "empty", "An_empty_IPv6_address");
        yield return Case($"postgresql://u:{Secret}@[::1]x/d", "followed by something other than ':port'", "Garbage_after_an_IPv6_address");
        yield return Case($"postgresql://u:{Secret}@h:port/d", "a port is not a number", "A_port_that_is_no_number");
        yield return Case($"postgresql://u:{Secret}@h:70000/d", "a port is not a number from 1 to 65535", "A_port_out_of_range");
        yield return Case($"postgresql://u:{Secret}@h1,h2,h3/d?port=1,2", "2 ports are given for 3 hosts", "Ports_that_do_not_match_the_hosts");
        yield return Case($"postgresql://u:{Secret}@h1,,h3/d", "a host in the list of hosts is empty", "An_empty_host_in_the_list");
        yield return Case($"postgresql://u:Not@Echoed-42@h/d", "percent-encode an '@'", "An_unencoded_at_sign_in_the_password");
        yield return Case($"postgresql://u:{Secret}%zz@h/d", "the password has a '%' that is not followed by two hexadecimal digits", "A_bad_percent_encoding_in_the_password");
        yield return Case($"postgresql://u:{Secret}%00@h/d", "the password contains %00", "A_percent_encoded_NUL");
        yield return Case($"postgresql://u:{Secret}%FF@h/d", "the password is not valid UTF-8", "A_password_that_is_not_UTF8");
        yield return Case($"postgresql://u:{Secret}@h/d?ssl=yes", "the parameter ssl takes only the value true", "JDBCs_ssl_other_than_true");
        yield return Case($"postgresql://u:{Secret}@h", "names no database", "A_uri_without_a_database");
        yield return Case("postgresql://", "names no database", "The_empty_uri");
    }

    [TestCaseSource(nameof(Malformed))]
    public void A_malformed_uri_is_a_configuration_error_naming_what_is_wrong_never_a_value(string uri, string message)
    {
        var error = Assert.Throws<ConfigurationException>(() => ConnectionTarget.Parse(uri, "--connection"));

        Assert.That(error!.Message, Does.Contain(message).And.Contain("from --connection"));
        Assert.That(error.Message, Does.Not.Contain("Echoed").And.Not.Contain("postgresql://u"), "the message echoes the URI or its password");
    }

    [TestCase($"Host=h;Database=d;Password={Secret};Frobnicate=yes", "unknown keyword 'frobnicate'")]
    [TestCase($"Host=h;Database=d;Password={Secret};sslmode=require;x/y=1", "does not look like a keyword")]
    [TestCase($"Host=h;Database=d;Password={Secret};Port=high", "the value of port is not valid")]
    [TestCase($"Host=h;Database=d;Password={Secret};SSL Mode=sometimes", "the value of ssl mode is not valid")]
    [TestCase($"Host=h;Database=d;Password=\"{Secret}", "neither Keyword=Value pairs")]
    [TestCase($"{Secret}", "neither Keyword=Value pairs")]
    [TestCase($"postgresql:/u:{Secret}@h/d?sslmode=require", "does not look like a keyword")]
    [TestCase($"Host=h;Password={Secret}", "names no database")]
    public void A_malformed_keyword_string_is_a_configuration_error_never_echoing_a_value(string connectionString, string message)
    {
        var error = Assert.Throws<ConfigurationException>(() => ConnectionTarget.Parse(connectionString, "environment IAMVET_SCHEMA_CONNECTION"));

        Assert.That(error!.Message, Does.Contain(message).And.Contain("from environment IAMVET_SCHEMA_CONNECTION"));
        Assert.That(error.Message, Does.Not.Contain("Echoed"), "the message echoes the password");
    }

    [Test]
    public void Keyword_strings_read_as_before()
    {
        var target = ConnectionTarget.Parse("Server=db.example;Port=6543;Database=app;User ID=me;Password=pw;SSL Mode=VerifyCA;Root Certificate=/ca.pem");

        Assert.That(target.Endpoints, Is.EqualTo(new[] { ("db.example", 6543) }));
        Assert.That(target.Settings().SslMode, Is.EqualTo(SslMode.VerifyCA));
        Assert.That(new MigrationDatabase(target).ClientEnvironment(Roles.PgDump)["PGSSLROOTCERT"], Is.EqualTo("/ca.pem"));
    }
}
