using FluentMigrator;

namespace IamVet.Schema.Migrations;

/// <summary>
/// During the expand phase the new application inserts users without realName (it lives in the
/// profile tables now), so the column must accept NULL. Down restores NOT NULL only after the
/// profile tables' Downs have refilled it; a user still without a name is named in the error
/// rather than silently given a made-up one.
/// </summary>
[Migration(202509290200, "users.realName accepts NULL during the expand phase")]
public sealed class RelaxUsersRealName : Migration
{
    public override void Up() => Execute.Sql("""ALTER TABLE users ALTER COLUMN "realName" DROP NOT NULL;""");

    public override void Down() => Execute.Sql("""
        -- SET NOT NULL scans users once; only when it fails are the users without a name looked up.
        DO $$
        DECLARE
            missing bigint;
            first_ids text;
        BEGIN
            ALTER TABLE users ALTER COLUMN "realName" SET NOT NULL;
        EXCEPTION WHEN not_null_violation THEN
            SELECT count(*) INTO missing FROM users WHERE "realName" IS NULL;
            SELECT string_agg(id, ', ') INTO first_ids
            FROM (SELECT id FROM users WHERE "realName" IS NULL ORDER BY id LIMIT 20) f;
            RAISE EXCEPTION 'cannot make users."realName" NOT NULL again: % user(s) have no realName and no profile row to take it from (first ids: %)', missing, first_ids
                USING ERRCODE = 'not_null_violation',
                      HINT = 'Give these users a realName (or delete them) and run migrate down again.';
        END $$;
        """);
}
