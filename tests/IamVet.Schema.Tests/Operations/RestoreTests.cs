namespace IamVet.Schema.Tests.Operations;

/// <summary>
/// <c>restore</c>, the runbook's second rollback path: a dump that does not match its manifest is
/// refused before any database exists; a good one goes into a NEW database with the manifest's
/// row counts and the source untouched; <c>--replace --yes</c> swaps it in and keeps the old
/// database renamed, never dropped.
/// </summary>
[TestFixture]
public sealed class RestoreTests : OperationsTest
{
    public enum Damage
    {
        OneChangedByte,
        Truncated,
    }

    [TestCase(Damage.OneChangedByte, TestName = "Restore_refuses_a_dump_with_one_changed_byte_and_creates_no_database")]
    [TestCase(Damage.Truncated, TestName = "Restore_refuses_a_truncated_dump_and_creates_no_database")]
    public async Task Restore_refuses_a_damaged_dump(Damage damage)
    {
        // Given a backup whose dump was damaged after the manifest was written
        await CreateLegacyDatabaseWithRowsAsync();
        var (dump, _) = await BackupAsync();
        var bytes = await File.ReadAllBytesAsync(dump);
        if (damage == Damage.OneChangedByte)
        {
            bytes[bytes.Length / 2] ^= 0x01;
        }
        else
        {
            bytes = bytes[..(bytes.Length / 2)];
        }

        await File.WriteAllBytesAsync(dump, bytes);
        var databasesBefore = await DatabasesAsync();
        var sourceBefore = await UntouchedStateAsync();

        // When
        var result = await RunAsync("restore", "--from", dump);

        // Then refused (exit 3) with the reason, before any database was created
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(result.StandardError, Does.Contain("does not match its manifest").And.Contain("no database was created"), result.ToString());
        // (parallel fixtures create and drop their own databases: only names derived from ours are compared)
        var created = (await DatabasesAsync()).Except(databasesBefore).Where(d => d.Name.StartsWith(Database.Name, StringComparison.Ordinal));
        Assert.That(created, Is.Empty, "restore created a database for a damaged dump\n" + result);
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(sourceBefore), "the source database changed");
    }

    [Test]
    public async Task Restore_refuses_a_dump_without_its_manifest_and_creates_no_database()
    {
        // Given a good dump whose manifest is gone
        await CreateLegacyDatabaseWithRowsAsync();
        var (dump, _) = await BackupAsync();
        File.Delete(BackupRestorer.ManifestPathFor(dump));

        // When
        var result = await RunAsync("restore", "--from", dump);

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(result.StandardError, Does.Contain("no manifest beside the dump"), result.ToString());
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, "restore created a database for a dump it cannot check\n" + result);
    }

    [Test]
    public async Task Restore_goes_into_a_new_database_named_after_the_source_and_time_with_the_manifest_counts_and_leaves_the_source_alone()
    {
        // Given a backup, and a source that has moved on since (a new sign-up)
        await CreateLegacyDatabaseWithRowsAsync();
        var fingerprintsAtBackup = await LegacyFingerprintsAsync(Database.Name);
        var (dump, manifest) = await BackupAsync();
        await LegacyRows.InsertAsync(Database, new LegacyUser("vet-after-backup", "VETERINARIAN"));
        var sourceBefore = await UntouchedStateAsync();

        // When
        var result = await RunAsync("restore", "--from", dump);

        // Then a new database <db>_restore_<yyyyMMddHHmmss> holds the dump, table for table
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var restored = (await DerivedDatabasesAsync()).Select(d => d.Name).ToList();
        Assert.That(restored, Has.Count.EqualTo(1), result.ToString());
        Assert.That(restored[0], Does.Match($"^{Database.Name}_restore_[0-9]{{14}}$"));
        Assert.That(Unwrapped(result.StandardOutput), Does.Contain($"restored into {restored[0]} in").And.Contain("verified: every table has the manifest's row count"), result.ToString());
        Assert.That(await RowCountsAsync(restored[0]), Is.EqualTo(RowCountsOf(manifest)));
        Assert.That(await LegacyFingerprintsAsync(restored[0]), Is.EqualTo(fingerprintsAtBackup), "the restored legacy tables differ from the source at backup time");
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(sourceBefore), "restore changed the source database");
    }

    [Test]
    public async Task Restore_with_target_db_goes_into_that_new_database()
    {
        await CreateLegacyDatabaseWithRowsAsync();
        var (dump, manifest) = await BackupAsync();
        var sourceBefore = await UntouchedStateAsync();
        var target = DerivedPrefix + "chosen";

        var result = await RunAsync("restore", "--from", dump, "--target-db", target);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That((await DerivedDatabasesAsync()).Select(d => d.Name), Is.EqualTo(new[] { target }), result.ToString());
        Assert.That(await RowCountsAsync(target), Is.EqualTo(RowCountsOf(manifest)));
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(sourceBefore), "restore changed the source database");
    }

    [Test]
    public async Task Restore_with_target_db_naming_an_existing_database_is_refused_and_writes_nothing()
    {
        // Given a backup, and the most dangerous existing target there is: the source itself
        await CreateLegacyDatabaseWithRowsAsync();
        var (dump, _) = await BackupAsync();
        await LegacyRows.InsertAsync(Database, new LegacyUser("vet-after-backup", "VETERINARIAN"));
        var sourceBefore = await UntouchedStateAsync();

        // When
        var result = await RunAsync("restore", "--from", dump, "--target-db", Database.Name);

        // Then refused like any other pre-flight refusal (exit 3), nothing written or created
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(result.StandardError, Does.Contain($"database \"{Database.Name}\" already exists"), result.ToString());
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(sourceBefore), "restore wrote into an existing database");
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, result.ToString());
    }

    [Test]
    public async Task Restore_replace_without_yes_is_a_usage_error_and_creates_nothing()
    {
        await CreateLegacyDatabaseWithRowsAsync();
        var (dump, _) = await BackupAsync();
        var sourceBefore = await UntouchedStateAsync();

        var result = await RunAsync("restore", "--from", dump, "--replace");

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.StandardError, Does.Contain("--replace").And.Contain("--yes"), result.ToString());
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, result.ToString());
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(sourceBefore));
    }

    [Test]
    public async Task Restore_replace_with_a_target_db_is_a_usage_error_and_creates_nothing()
    {
        await CreateLegacyDatabaseWithRowsAsync();
        var (dump, _) = await BackupAsync();
        var sourceBefore = await UntouchedStateAsync();

        var result = await RunAsync("restore", "--from", dump, "--replace", "--yes", "--target-db", Database.Name + "_other");

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.StandardError, Does.Contain("--target-db").And.Contain("--replace").And.Contain("contradict"), result.ToString());
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, result.ToString());
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(sourceBefore));
    }

    [Test]
    public async Task Restore_replace_yes_swaps_the_restored_copy_in_and_keeps_the_old_database_renamed()
    {
        // Given a backup, then a write the restore will undo
        await CreateLegacyDatabaseWithRowsAsync();
        var fingerprintsAtBackup = await LegacyFingerprintsAsync(Database.Name);
        var (dump, manifest) = await BackupAsync();
        await LegacyRows.InsertAsync(Database, new LegacyUser("vet-after-backup", "VETERINARIAN"));
        var fingerprintsBeforeReplace = await LegacyFingerprintsAsync(Database.Name);
        var original = (await DatabasesAsync()).Single(d => d.Name == Database.Name);

        // When
        var result = await RunAsync("restore", "--from", dump, "--replace", "--yes");
        NpgsqlConnection.ClearPool(new NpgsqlConnection(Database.ConnectionString)); // the swap terminated our pooled sessions

        // Then the source's name serves the backup's data …
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var replaced = (await DerivedDatabasesAsync()).ToList();
        Assert.That(replaced, Has.Count.EqualTo(1), "expected the old database under <db>_replaced_<time> and nothing else (no _incoming_ left over)\n" + result);
        Assert.That(replaced[0].Name, Does.Match($"^{Database.Name}_replaced_[0-9]{{14}}$"));
        Assert.That(await RowCountsAsync(Database.Name), Is.EqualTo(RowCountsOf(manifest)));
        Assert.That(await LegacyFingerprintsAsync(Database.Name), Is.EqualTo(fingerprintsAtBackup));
        Assert.That(await Database.ScalarAsync<long>("SELECT count(*) FROM users WHERE id = 'vet-after-backup'"), Is.Zero);

        // … and the old database was renamed, not dropped: same oid, every row of it still there
        Assert.That(replaced[0].Oid, Is.EqualTo(original.Oid), "the old database is not the same database renamed");
        Assert.That((await DatabasesAsync()).Single(d => d.Name == Database.Name).Oid, Is.Not.EqualTo(original.Oid));
        Assert.That(await LegacyFingerprintsAsync(replaced[0].Name), Is.EqualTo(fingerprintsBeforeReplace), "the kept database lost data");
        Assert.That(Unwrapped(result.StandardOutput), Does.Contain($"now serving as {Database.Name}, the previous database kept as {replaced[0].Name}"), result.ToString());
    }

    [Test]
    public async Task Restore_replace_keeps_the_owner_acl_settings_and_comment_of_the_database_it_replaces()
    {
        // Given a database owned by its own role, that only one role may connect to, with settings
        // for itself and for that role, a comment and a connection limit
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (owner, app, stranger) = ($"owner_{suffix}", $"app_{suffix}", $"stranger_{suffix}");
        await CreateLegacyDatabaseWithRowsAsync();
        await ExecuteOnServerAsync($"""
            CREATE ROLE {owner} LOGIN PASSWORD 'pw-{suffix}';
            CREATE ROLE {app} LOGIN PASSWORD 'pw-{suffix}';
            CREATE ROLE {stranger} LOGIN PASSWORD 'pw-{suffix}';
            ALTER DATABASE "{Database.Name}" OWNER TO {owner};
            REVOKE ALL ON DATABASE "{Database.Name}" FROM PUBLIC;
            GRANT CONNECT, TEMPORARY ON DATABASE "{Database.Name}" TO {app};
            ALTER ROLE {app} IN DATABASE "{Database.Name}" SET statement_timeout = '7s';
            ALTER DATABASE "{Database.Name}" SET search_path = "$user", public;
            ALTER DATABASE "{Database.Name}" SET work_mem = '8MB';
            ALTER DATABASE "{Database.Name}" WITH CONNECTION LIMIT 50;
            COMMENT ON DATABASE "{Database.Name}" IS '운영 데이터베이스 (iamvet)';
            """);
        try
        {
            var (dump, _) = await BackupAsync();
            var before = await DatabasePropertiesAsync(Database.Name);

            // When
            var result = await RunAsync("restore", "--from", dump, "--replace", "--yes");
            NpgsqlConnection.ClearAllPools(); // the swap terminated our pooled sessions

            // Then the database now serving under the name is the same database to every role
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(await DatabasePropertiesAsync(Database.Name), Is.EqualTo(before), result.ToString());
            var replaced = (await DerivedDatabasesAsync()).Single();
            Assert.That(await DatabasePropertiesAsync(replaced.Name), Is.EqualTo(before), "the kept database lost its properties");
            Assert.That(await CanConnectAsync(app, $"pw-{suffix}"), Is.True, "the role granted CONNECT lost it");
            Assert.That(await CanConnectAsync(stranger, $"pw-{suffix}"), Is.False, "a role never granted CONNECT can connect");
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            foreach (var database in (await DerivedDatabasesAsync()).Select(d => d.Name).Append(Database.Name))
            {
                await ExecuteOnServerAsync($"""ALTER DATABASE "{database}" OWNER TO CURRENT_USER""");
            }

            await ExecuteOnServerAsync($"DROP OWNED BY {app}, {owner}, {stranger}; DROP ROLE {app}; DROP ROLE {owner}; DROP ROLE {stranger}");
        }
    }

    [Test]
    public async Task Restore_replace_while_another_run_holds_the_migration_lock_exits_7_and_replaces_nothing()
    {
        // Given a backup, and another run holding the migration lock on the database (a migrate up, say)
        await CreateLegacyDatabaseWithRowsAsync();
        var (dump, _) = await BackupAsync();
        var original = (await DatabasesAsync()).Single(d => d.Name == Database.Name);
        await using var other = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Database.ConnectionString) { ApplicationName = "iamvet-tests other run", Pooling = false }.ConnectionString);
        await other.OpenAsync();
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", other))
        {
            take.Parameters.AddWithValue("key", AdvisoryLock.Key);
            await take.ExecuteScalarAsync();
        }

        // When
        var result = await RunAsync("restore", "--from", dump, "--replace", "--yes", "--lock-timeout", "1s");

        // Then it waits for the lock, gives up naming the holder, and leaves every database as it was
        Assert.That(result.ExitCode, Is.EqualTo(7), result.ToString());
        Assert.That(result.Output, Does.Contain($"pid {other.ProcessID} (iamvet-tests other run)"), result.ToString());
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, "no copy may be created or swapped in\n" + result);
        Assert.That((await DatabasesAsync()).Single(d => d.Name == Database.Name).Oid, Is.EqualTo(original.Oid));
    }

    [Test]
    public async Task Restore_replace_started_beside_a_migrate_up_refuses_with_exit_3_once_the_up_committed_and_replaces_nothing()
    {
        // Given a backup, and a migrate up holding the migration lock, its move waiting on a gate the test holds
        const long gate = 7_140_062;
        await Migrator.UpToAsync(Database, Versions.AuditColumns);
        await LegacyRows.InsertAsync(Database, SeedRows);
        var (dump, _) = await BackupAsync();
        var original = (await DatabasesAsync()).Single(d => d.Name == Database.Name);
        await Database.ExecuteAsync(Sabotage.GateAfterEachInsert("hospitals", gate));
        await using var holder = await Faults.Sessions.HoldGateAsync(Database, gate);
        using var up = Start("migrate", "up", "--yes", "--no-backup", "--lock-timeout", "60s");
        await Faults.Sessions.WaitForAsync(Database, "a.application_name = 'iamvet-schema migrate' AND a.wait_event = 'advisory'", TimeSpan.FromSeconds(120), "the migration at the gate", up);
        var upsLock = await Faults.Sessions.WaitForAsync(Database, "a.application_name = 'iamvet-schema lock'", TimeSpan.FromSeconds(120), "the up's lock connection");

        // When restore --replace starts meanwhile (its plan shows the database before the up), waits for the lock, and the up then commits
        using var restore = Start("restore", "--from", dump, "--replace", "--yes", "--lock-timeout", "60s");
        await Faults.Sessions.WaitForAsync(Database, $"a.application_name = 'iamvet-schema lock' AND a.pid <> {upsLock}", TimeSpan.FromSeconds(120), "the restore waiting for the migration lock", restore);
        await Faults.Sessions.OpenGateAsync(holder, gate);
        var upResult = await up.WaitAsync(TimeSpan.FromSeconds(120));
        var result = await restore.WaitAsync(TimeSpan.FromSeconds(120));

        // Then the restore refuses (exit 3) saying the database changed since its plan was shown, and the migrated database stays in place
        Assert.That(upResult.ExitCode, Is.Zero, upResult.ToString());
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(Unwrapped(result.Output), Does.Contain($"(at version {Versions.AuditColumns})")
            .And.Contain("changed since its plan was shown").And.Contain($"now at version {Migrator.Expanded}"), result.ToString());
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, "no copy may be created or swapped in\n" + result);
        Assert.That((await DatabasesAsync()).Single(d => d.Name == Database.Name).Oid, Is.EqualTo(original.Oid));
        Assert.That(await AppliedAsync(), Does.Contain(Migrator.Expanded));
    }

    /// <summary>Owner, ACL, settings (per database and per role), comment and connection limit of a database, one line each.</summary>
    private static async Task<List<string>> DatabasePropertiesAsync(string database)
    {
        await using var connection = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT 'owner ' || pg_get_userbyid(datdba) FROM pg_database WHERE datname = @db
            UNION ALL SELECT 'acl ' || coalesce(array_to_string(ARRAY(SELECT x::text FROM unnest(datacl) x ORDER BY 1), ','), 'default') FROM pg_database WHERE datname = @db
            UNION ALL SELECT 'comment ' || coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = @db
            UNION ALL SELECT 'connection limit ' || datconnlimit FROM pg_database WHERE datname = @db
            UNION ALL SELECT 'allow connections ' || datallowconn FROM pg_database WHERE datname = @db
            UNION ALL SELECT 'setting ' || coalesce(pg_get_userbyid(nullif(s.setrole, 0)), '(database)') || ' ' || c
                      FROM pg_db_role_setting s CROSS JOIN LATERAL unnest(s.setconfig) c
                      WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = @db)
            ORDER BY 1
            """, connection);
        command.Parameters.AddWithValue("db", database);
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(0));
        }

        return lines;
    }

    private async Task<bool> CanConnectAsync(string role, string password)
    {
        try
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Username = role, Password = password, Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            return true;
        }
        catch (PostgresException denied) when (denied.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            return false;
        }
    }

    private static async Task ExecuteOnServerAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
