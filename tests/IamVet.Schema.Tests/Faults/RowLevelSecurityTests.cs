namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// Row-level security on a table the runner reads, connected as the tables' owner (not a
/// superuser: superusers bypass every policy). Every connection of the runner reads with
/// <c>row_security = off</c>, and pre-flight (and <c>verify</c>) name the tables whose policies
/// would hide rows, so a policy can never make a run move, verify or drop only the rows it lets
/// through (issue #14).
/// </summary>
[TestFixture]
public sealed class RowLevelSecurityTests : RunnerTest
{
    private string role = null!;
    private string password = null!;

    [SetUp]
    public void NameTheOwner()
    {
        role = $"iamvet_owner_{Guid.NewGuid():N}";
        password = $"Pw-{Guid.NewGuid():N}";
    }

    [TearDown]
    public async Task DropTheOwner() =>
        await Database.ExecuteAsync($"""REASSIGN OWNED BY "{role}" TO CURRENT_USER; DROP OWNED BY "{role}"; DROP ROLE IF EXISTS "{role}" """);

    [Test]
    public async Task Migrate_up_as_the_owner_with_a_forced_policy_on_users_is_refused_naming_the_table_and_what_to_do()
    {
        // Given a legacy database owned by a non-superuser, with a forced policy that shows only active users
        await CreateLegacyDatabaseWithRowsAsync();
        await HandEverythingToTheOwnerAsync();
        await ForceActiveOnlyPolicyOnUsersAsync();
        var before = await StateAsync();

        // When
        var result = await RunAsync(AsOwner(), "migrate", "up", "--yes", "--no-backup");

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(result.Output, Does.Contain("row-level security would hide rows").And.Contain("users (row level security enabled and forced")
            .And.Contain("ALTER TABLE users NO FORCE ROW LEVEL SECURITY"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
    }

    [Test]
    public async Task Migrate_up_as_the_owner_once_the_policy_is_no_longer_forced_moves_every_user_the_inactive_ones_too()
    {
        // Given the forced policy of the case above, then lifted for the migration window as the refusal says
        await CreateLegacyDatabaseWithRowsAsync();
        await HandEverythingToTheOwnerAsync();
        await ForceActiveOnlyPolicyOnUsersAsync();
        await Database.ExecuteAsync("ALTER TABLE users NO FORCE ROW LEVEL SECURITY");

        // When
        var result = await RunAsync(AsOwner(), "migrate", "up", "--yes", "--no-backup");

        // Then every veterinarian was moved, the inactive vet2 included
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(await Database.LinesAsync("""SELECT "userId" FROM veterinarians ORDER BY "userId" """), Is.EqualTo(new[] { "vet1", "vet2" }));
    }

    [TestCase("verify", TestName = "Verify_as_the_owner_with_a_forced_policy_on_users_is_refused_naming_the_table")]
    [TestCase("check", TestName = "Check_as_the_owner_with_a_forced_policy_on_users_is_refused_naming_the_table")]
    public async Task A_read_only_command_is_refused_rather_than_reading_only_the_rows_a_policy_lets_through(string command)
    {
        // Given a normalized database owned by a non-superuser, then a forced policy that shows only active users
        await UpgradeLegacyDatabaseWithRowsAsync();
        await HandEverythingToTheOwnerAsync();
        await ForceActiveOnlyPolicyOnUsersAsync();

        // When
        var result = await RunAsync(AsOwner(), command == "check" ? ["check", "--down"] : [command]);

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(result.Output, Does.Contain("row-level security would hide rows").And.Contain("users (row level security enabled and forced"), result.ToString());
    }

    [Test]
    public async Task A_connection_of_the_runner_that_meets_a_hiding_policy_fails_instead_of_filtering()
    {
        // Given a normalized database whose owner (not a superuser) is subject to a forced policy
        await UpgradeLegacyDatabaseWithRowsAsync();
        await HandEverythingToTheOwnerAsync();
        await ForceActiveOnlyPolicyOnUsersAsync();

        // When the owner reads users through a connection the runner's database layer opens
        await using var database = new MigrationDatabase(ConnectionTarget.Parse(AsOwner()[ConnectionSettings.EnvironmentVariable]!));
        await using var connection = await database.OpenAsync(Roles.Lock, CancellationToken.None);
        var read = async () => await Sql.ScalarAsync<long>(connection, "SELECT count(*) FROM users", CancellationToken.None);

        // Then PostgreSQL refuses instead of counting only the active users
        var failure = await Assert.ThrowsAsync<PostgresException>(async () => await read());
        Assert.That(failure!.MessageText, Does.Contain("row-level security"));
    }

    private Dictionary<string, string?> AsOwner() => new()
    {
        [ConnectionSettings.EnvironmentVariable] = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Username = role, Password = password }.ConnectionString,
    };

    /// <summary>The role owns the database, the schema's tables and sequences, as an application's deploy role does.</summary>
    private async Task HandEverythingToTheOwnerAsync() =>
        await Database.ExecuteAsync($"""
            CREATE ROLE "{role}" LOGIN PASSWORD '{password}';
            ALTER DATABASE "{Database.Name}" OWNER TO "{role}";
            DO $$
            DECLARE r record;
            BEGIN
                FOR r IN SELECT c.relname, c.relkind FROM pg_class c
                         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'S', 'v', 'p')
                           -- a serial's sequence follows its table
                           AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
                LOOP
                    EXECUTE format('ALTER %s %I OWNER TO "{role}"', CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, r.relname);
                END LOOP;
            END $$;
            """);

    private async Task ForceActiveOnlyPolicyOnUsersAsync() =>
        await Database.ExecuteAsync("""
            ALTER TABLE users ENABLE ROW LEVEL SECURITY;
            ALTER TABLE users FORCE ROW LEVEL SECURITY;
            CREATE POLICY active_only ON users USING ("isActive");
            """);
}
