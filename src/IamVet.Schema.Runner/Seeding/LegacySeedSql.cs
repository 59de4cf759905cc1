namespace IamVet.Schema.Runner.Seeding;

/// <summary>
/// Set-based generators of realistic legacy rows. Every value derives from the row number through
/// hashint8, so a seed is deterministic (the same N gives the same database) and needs no data
/// from outside. Parameters: @from and @to, the inclusive range of user numbers of one chunk.
/// </summary>
internal static class LegacySeedSql
{
    /// <summary>Users: 60 % veterinarians, 25 % students, 15 % hospitals; in every type ~8 % inactive, ~3 % withdrawn (some restored).</summary>
    public const string Users = """
        WITH n AS (
            SELECT g AS n, abs(hashint8(g)::bigint) AS h1, abs(hashint8(g * 31 + 7)::bigint) AS h2, abs(hashint8(g * 131 + 11)::bigint) AS h3
            FROM generate_series(@from::bigint, @to::bigint) g
        ), typed AS (
            SELECT n.*,
                   CASE WHEN h1 % 100 < 60 THEN 'VETERINARIAN' WHEN h1 % 100 < 85 THEN 'VETERINARY_STUDENT' ELSE 'HOSPITAL' END AS kind,
                   timestamp '2022-01-01' + ((h2 % (1000::bigint * 86400 * 1000)) * interval '1 millisecond') AS created
            FROM n
        )
        INSERT INTO users (id, email, phone, "passwordHash", "profileImage", "userType", provider, "isActive",
                           "termsAgreedAt", "privacyAgreedAt", "marketingAgreedAt", "deletedAt", "withdrawReason", "restoredAt",
                           "createdAt", "updatedAt", "realName", "birthDate", "businessNumber", "establishedDate", "hospitalAddress",
                           "hospitalAddressDetail", "hospitalLogo", "hospitalName", "hospitalWebsite", "lastLoginAt", "licenseImage",
                           "loginId", nickname, "universityEmail")
        SELECT 'usr_' || lpad(n::text, 9, '0'),
               'user' || n || '@' || (ARRAY['naver.com', 'gmail.com', 'daum.net', 'kakao.com', 'hanmail.net'])[1 + h2 % 5],
               '010-' || lpad(((n / 10000) % 10000)::text, 4, '0') || '-' || lpad((n % 10000)::text, 4, '0'),
               CASE WHEN h3 % 10 < 9 THEN '$2b$10$' || md5(n::text) END,
               CASE WHEN h3 % 5 = 0 THEN 'https://cdn.iamvet.kr/profiles/' || n || '.jpg' END,
               kind::"UserType",
               (ARRAY['NORMAL', 'NORMAL', 'NORMAL', 'NORMAL', 'NORMAL', 'NORMAL', 'NORMAL', 'KAKAO', 'NAVER', 'GOOGLE'])[1 + h3 % 10]::"Provider",
               NOT (h3 % 1000 < 80 OR h2 % 100 < 3), -- not h1: h1 picks the type, and hospitals would never be inactive
               created, created,
               CASE WHEN h2 % 5 < 2 THEN created END,
               CASE WHEN h2 % 100 < 3 THEN created + interval '200 days' END,
               CASE WHEN h2 % 100 < 3 THEN (ARRAY['이직', '서비스 불만족', '개인정보 우려', '다른 플랫폼 이용', NULL])[1 + h1 % 5] END,
               CASE WHEN h2 % 100 < 3 AND h3 % 6 = 0 THEN created + interval '260 days' END,
               created,
               created + ((h3 % (86400::bigint * 1000 * 90)) * interval '1 millisecond'),
               (ARRAY['김', '이', '박', '최', '정', '강', '조', '윤', '장', '임', '한', '오', '서', '신', '권'])[1 + h1 % 15]
                 || (ARRAY['민', '서', '지', '하', '도', '예', '수', '현', '준', '윤', '채', '은'])[1 + h2 % 12]
                 || (ARRAY['준', '연', '우', '원', '희', '진', '아', '호', '빈', '율', '린', '영'])[1 + h3 % 12],
               CASE WHEN kind <> 'HOSPITAL' AND h3 % 10 < 8 THEN timestamp '1965-01-01' + ((h1 % (40::bigint * 365 * 86400)) * interval '1 second') END,
               CASE WHEN kind = 'HOSPITAL' THEN lpad((100 + n / 10000000 % 900)::text, 3, '0') || '-' || lpad((n / 100000 % 100)::text, 2, '0') || '-' || lpad((n % 100000)::text, 5, '0') END,
               CASE WHEN kind = 'HOSPITAL' THEN timestamp '1995-01-01' + ((h2 % (28::bigint * 365 * 86400)) * interval '1 second') END,
               CASE WHEN kind = 'HOSPITAL' THEN
                   (ARRAY['서울특별시 강남구 테헤란로', '서울특별시 마포구 월드컵북로', '부산광역시 해운대구 센텀중앙로', '경기도 성남시 분당구 판교역로',
                          '대구광역시 수성구 동대구로', '인천광역시 연수구 컨벤시아대로', '광주광역시 서구 상무중앙로', '대전광역시 유성구 대학로'])[1 + h2 % 8]
                   || ' ' || (1 + h3 % 400) END,
               CASE WHEN kind = 'HOSPITAL' AND h1 % 4 <> 0 THEN (1 + h1 % 12) || '층 ' || (100 + h2 % 20) || '호' END,
               CASE WHEN kind = 'HOSPITAL' AND h3 % 5 < 3 THEN 'https://cdn.iamvet.kr/logos/' || n || '.png' END,
               CASE WHEN kind = 'HOSPITAL' THEN
                   (ARRAY['행복', '사랑', '우리', '튼튼', '하나', '24시', '푸른', '바른', '온누리', '새봄'])[1 + h2 % 10] || '동물병원'
                   || (ARRAY['', ' 강남점', ' 분당점', ' 해운대점', ' 본점', ''])[1 + h3 % 6] END,
               CASE WHEN kind = 'HOSPITAL' AND h2 % 5 < 2 THEN 'https://vet' || n || '.co.kr' END,
               CASE WHEN h1 % 10 < 7 THEN (created + interval '30 days' + ((h3 % 1000000) * interval '1 microsecond'))::timestamp(6) END,
               CASE WHEN kind = 'VETERINARIAN' AND h3 % 10 < 9 THEN 'https://cdn.iamvet.kr/licenses/' || n || '.png' END,
               CASE WHEN h2 % 10 < 8 THEN 'login' || n END,
               CASE WHEN kind <> 'HOSPITAL' AND h1 % 10 < 7 THEN
                   (ARRAY['수의사', '댕댕이', '냥집사', '동물사랑', '초보수의', '외과의', '멍멍', '야옹'])[1 + h3 % 8] || n END,
               CASE WHEN kind = 'VETERINARY_STUDENT' AND h3 % 20 <> 0 THEN
                   'stu' || n || '@' || (ARRAY['snu.ac.kr', 'konkuk.ac.kr', 'kangwon.ac.kr', 'jbnu.ac.kr', 'knu.ac.kr', 'cnu.ac.kr', 'gnu.ac.kr'])[1 + h2 % 7] END
        FROM typed
        """;

    /// <summary>Side rows of the chunk's hospitals: 1–4 animal types, 1–3 specialties, 0–5 images (mostly displayOrder 0), 0–2 licences.</summary>
    public const string SideTables = """
        CREATE TEMP TABLE IF NOT EXISTS seed_hospitals (n bigint, id text, h bigint, created timestamp(3));
        TRUNCATE seed_hospitals;
        INSERT INTO seed_hospitals
        SELECT substr(id, 5)::bigint, id, abs(hashint8(substr(id, 5)::bigint * 17 + 3)::bigint), "createdAt"
        FROM users WHERE "userType" = 'HOSPITAL' AND id BETWEEN 'usr_' || lpad(@from::text, 9, '0') AND 'usr_' || lpad(@to::text, 9, '0');

        INSERT INTO hospital_animals (id, "userId", "animalType", "createdAt")
        SELECT 'ani_' || s.n || '_' || i, s.id,
               (ARRAY['개', '고양이', '토끼', '햄스터', '조류', '파충류'])[1 + (s.h + i) % 6],
               s.created + i * interval '1 second'
        FROM seed_hospitals s, generate_series(1, 1 + (s.h % 4)::int) i;

        INSERT INTO hospital_specialties (id, "userId", specialty, "createdAt")
        SELECT 'spc_' || s.n || '_' || i, s.id,
               (ARRAY['내과', '외과', '치과', '안과', '피부과', '정형외과', '영상의학과', '재활의학과'])[1 + (s.h / 7 + i) % 8],
               s.created + i * interval '1 second'
        FROM seed_hospitals s, generate_series(1, 1 + (s.h / 5 % 3)::int) i;

        INSERT INTO hospital_facility_images (id, "userId", "imageUrl", "displayOrder", "createdAt", "updatedAt")
        SELECT 'img_' || s.n || '_' || i, s.id, 'https://cdn.iamvet.kr/facilities/' || s.n || '/' || i || '.jpg',
               CASE WHEN s.h % 10 < 7 THEN 0 ELSE i - 1 END,
               s.created + i * interval '1 minute', s.created + i * interval '1 minute'
        FROM seed_hospitals s, generate_series(1, (s.h / 11 % 6)::int) i;

        INSERT INTO hospital_business_licenses (id, "userId", "fileName", "fileUrl", "fileType", "uploadedAt", "fileSize")
        SELECT 'lic_' || s.n || '_' || i, s.id, '사업자등록증_' || i || '.pdf',
               'https://cdn.iamvet.kr/licenses/business/' || s.n || '_' || i || '.pdf', 'application/pdf',
               s.created + i * interval '3 days', 100000 + (s.h % 900000)::int
        FROM seed_hospitals s, generate_series(1, (s.h / 13 % 3)::int) i;
        """;

    /// <summary>Dirty rows of the kinds docs/domain.md lists (ids start with 'dirty_').</summary>
    public const string Dirty = """
        INSERT INTO users (id, email, phone, "userType", "termsAgreedAt", "privacyAgreedAt", "updatedAt", "realName",
                           "hospitalName", "businessNumber", "licenseImage", "universityEmail", "isActive")
        VALUES
            -- blocking: a HOSPITAL without hospitalName (hospitals.hospitalName is NOT NULL)
            ('dirty_hospital_no_name', 'dirty1@iamvet.kr', '019-0000-0001', 'HOSPITAL', now(), now(), now(), '이름없음', NULL, '999-99-00001', NULL, NULL, true),
            -- a VETERINARIAN with hospital columns filled (the values exist nowhere else)
            ('dirty_vet_with_hospital', 'dirty2@iamvet.kr', '019-0000-0002', 'VETERINARIAN', now(), now(), now(), '겸업수의', '부업동물병원', '999-99-00002', NULL, NULL, true),
            -- a VETERINARY_STUDENT with a licenseImage
            ('dirty_student_with_license', 'dirty3@iamvet.kr', '019-0000-0003', 'VETERINARY_STUDENT', now(), now(), now(), '면허학생', NULL, NULL, 'https://cdn.iamvet.kr/licenses/odd.png', 'dirty3@snu.ac.kr', false),
            -- a HOSPITAL whose side tables hold duplicates and images all at displayOrder 0
            ('dirty_hospital_duplicates', 'dirty4@iamvet.kr', '019-0000-0004', 'HOSPITAL', now(), now(), now(), '중복원장', '중복동물병원', '999-99-00004', NULL, NULL, true);

        INSERT INTO hospital_animals (id, "userId", "animalType", "createdAt") VALUES
            ('dirty_ani_1', 'dirty_hospital_duplicates', '개', '2024-01-01 10:00:00'),
            ('dirty_ani_2', 'dirty_hospital_duplicates', '개', '2024-01-02 10:00:00'),
            ('dirty_ani_3', 'dirty_hospital_duplicates', '고양이', '2024-01-03 10:00:00'),
            -- side rows whose user is not a HOSPITAL (they stay where they are)
            ('dirty_ani_vet', 'dirty_vet_with_hospital', '개', '2024-01-04 10:00:00');
        INSERT INTO hospital_specialties (id, "userId", specialty, "createdAt") VALUES
            ('dirty_spc_1', 'dirty_hospital_duplicates', '외과', '2024-01-01 10:00:00'),
            ('dirty_spc_2', 'dirty_hospital_duplicates', '외과', '2024-01-02 10:00:00'),
            ('dirty_spc_vet', 'dirty_vet_with_hospital', '내과', '2024-01-04 10:00:00');
        INSERT INTO hospital_facility_images (id, "userId", "imageUrl", "displayOrder", "createdAt", "updatedAt") VALUES
            ('dirty_img_1', 'dirty_hospital_duplicates', 'https://cdn.iamvet.kr/dirty/1.jpg', 0, '2024-01-01 10:00:00', '2024-01-01 10:00:00'),
            ('dirty_img_2', 'dirty_hospital_duplicates', 'https://cdn.iamvet.kr/dirty/2.jpg', 0, '2024-01-01 10:00:00', '2024-01-01 10:00:00'),
            ('dirty_img_3', 'dirty_hospital_duplicates', 'https://cdn.iamvet.kr/dirty/3.jpg', 0, '2024-01-01 09:00:00', '2024-01-01 09:00:00'),
            ('dirty_img_vet', 'dirty_vet_with_hospital', 'https://cdn.iamvet.kr/dirty/vet.jpg', 0, '2024-01-04 10:00:00', '2024-01-04 10:00:00');
        """;
}
