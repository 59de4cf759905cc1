namespace IamVet.Schema.Tests.Migrations;

/// <summary>Sonarr shape: migrate to the version before, seed legacy rows, apply, assert exact rows.</summary>
[TestFixture]
public sealed class AuditColumnsForMigrationLogTests : MigrationTest<AuditColumnsForMigrationLog>
{
    private const string LogQuery = """
        SELECT id, migration_name, executed_at, description, status, started_at, finished_at, duration_ms,
               version_from, version_to, backup_file, backup_sha256, runner_version, host, os_user, details
        FROM migration_log ORDER BY id
        """;

    [SetUp]
    public async Task SeedTheRunbookRows()
    {
        // Rows production's migration_log already holds, written by hand from the old runbook
        await Database.ExecuteAsync("""
            INSERT INTO migration_log (migration_name, executed_at, description) VALUES
                ('001_add_hospital_animals', '2025-03-04 10:11:12.123456', '병원 진료동물 테이블 추가'),
                ('002_add_business_licenses', '2025-05-06 07:08:09', NULL);
            """);
    }

    [Test]
    public async Task Existing_rows_survive_with_null_audit_columns()
    {
        await ApplyAsync();

        Assert.That(await Database.LinesAsync(LogQuery), Is.EqualTo(new[]
        {
            "1 | 001_add_hospital_animals | 2025-03-04 10:11:12.123456 | 병원 진료동물 테이블 추가 | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL",
            "2 | 002_add_business_licenses | 2025-05-06 07:08:09 | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL",
        }));
    }

    [Test]
    public async Task Audit_values_written_after_up_survive_down_then_up()
    {
        // Given audit values written into an old row and a new audit row, details with a null inside
        await ApplyAsync();
        await Database.ExecuteAsync("""
            UPDATE migration_log
            SET status = 'SUCCESS', started_at = '2025-09-29 01:00:00.123456+00', finished_at = '2025-09-29 01:02:03.5+00',
                duration_ms = 123377, version_from = 202509290000, version_to = 202509290800,
                backup_file = '/backups/iamvet-20250929.dump', backup_sha256 = repeat('ab', 32),
                runner_version = '0.1.0', host = 'db-1', os_user = 'deploy',
                details = '{"counts": {"HOSPITAL": 3, "VETERINARIAN": 10}, "warnings": [], "skipped": null}'
            WHERE id = 2;
            INSERT INTO migration_log (migration_name, description, status, started_at, details)
            VALUES ('iamvet-schema up', '정규화', 'FAILED', '2025-09-30 02:00:00+00', '{"error": "preflight", "ids": ["h-1"]}');
            """);
        var before = await Database.LinesAsync(LogQuery);

        // When
        await RevertAsync();

        // Then the legacy shape keeps them in description's last line, and nothing is stashed anywhere else
        Assert.That(await Database.LinesAsync("SELECT id || ' ' || split_part(description, ': ', 1) || ' | ' || (strpos(description, 'iamvet-audit: {') > 0) FROM migration_log ORDER BY id"),
            Is.EqualTo(new[] { "1 병원 진료동물 테이블 추가 | false", "2 iamvet-audit | true", "3 정규화\niamvet-audit | true" }));
        Assert.That(await Database.TableExistsAsync("iamvet_rollback_stash"), Is.False);
        await ApplyAsync();

        // And after the next up every row is exactly as before (descriptions included), and there is no stash
        Assert.That(await Database.LinesAsync(LogQuery), Is.EqualTo(before));
        Assert.That(await Database.TableExistsAsync("iamvet_rollback_stash"), Is.False);
    }
}
