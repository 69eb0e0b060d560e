using System.Globalization;
using Mrl.Adapters.Pgvector;
using Mrl.Adapters.Testing;
using Npgsql;

namespace Mrl.Adapters.Reliability.Tests;

/// <summary>
/// A database of its own on the fixture's server, laid out as hosted PostgreSQL often is: pgvector in schema <c>extensions</c>,
/// CREATE on <c>public</c> granted to PUBLIC (the default before PostgreSQL 15), an application role, and optionally an
/// attacker role with no rights on any table that has planted look-alikes of pgvector's objects in <c>public</c>. Every
/// look-alike does what the original does and records its call in <c>public.calls</c>. Dropped, with its roles, on dispose.
/// </summary>
internal sealed class HostileDatabase : IAsyncDisposable
{
    private readonly string _adminConnectionString;
    private readonly string _password;
    private readonly List<NpgsqlDataSource> _dataSources = [];

    private HostileDatabase(string adminConnectionString, string database, string suffix)
    {
        _adminConnectionString = adminConnectionString;
        Database = database;
        AppRole = "mrl_sp_app_" + suffix;
        AttackerRole = "mrl_sp_attacker_" + suffix;
        _password = "pw_" + suffix;
        Admin = Track(PgvectorDataSource.Create(new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = database, SearchPath = "public, extensions" }.ConnectionString));
    }

    public string Database { get; }

    public string AppRole { get; }

    public string AttackerRole { get; }

    /// <summary>A superuser data source to this database.</summary>
    public NpgsqlDataSource Admin { get; }

    /// <summary>Look-alikes of pgvector's functions and distance operators, for vector and halfvec.</summary>
    public const string PlantFunctionsAndOperators = "functions and operators";

    /// <summary>Domains named <c>vector</c> and <c>halfvec</c> in <c>public</c>, whose check records every value cast to them.</summary>
    public const string PlantTypes = "types";

    /// <summary>Creates the database, its roles and pgvector in <c>extensions</c>; plants what <paramref name="plant"/> names.</summary>
    public static async Task<HostileDatabase> CreateAsync(PostgresFixture postgres, params string[] plant)
    {
        postgres.RequireServer();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var database = "mrl_sp_" + suffix;
        await using (var server = NpgsqlDataSource.Create(postgres.AdminConnectionString))
        {
            await TestRows.ExecuteAsync(server, $"CREATE DATABASE {database}");
        }

        var db = new HostileDatabase(postgres.AdminConnectionString, database, suffix);
        try
        {
            await TestRows.ExecuteAsync(db.Admin,
                $"CREATE ROLE {db.AppRole} LOGIN PASSWORD '{db._password}'; CREATE ROLE {db.AttackerRole} LOGIN PASSWORD '{db._password}'; " +
                "CREATE SCHEMA extensions; CREATE EXTENSION vector SCHEMA extensions; GRANT USAGE ON SCHEMA extensions TO PUBLIC; " +
                "GRANT CREATE ON SCHEMA public TO PUBLIC");
            await using var attacker = PgvectorDataSource.Create(db.ConnectionString(db.AttackerRole, "public, extensions"));
            await TestRows.ExecuteAsync(attacker,
                "CREATE TABLE public.calls (fn text NOT NULL); GRANT INSERT ON public.calls TO PUBLIC; " +
                "CREATE FUNCTION public.record_call(fn text) RETURNS boolean LANGUAGE sql AS 'INSERT INTO public.calls VALUES (fn) RETURNING true'");
            foreach (var what in plant)
            {
                await TestRows.ExecuteAsync(attacker, what switch
                {
                    PlantFunctionsAndOperators => FunctionsAndOperators("vector") + FunctionsAndOperators("halfvec") + JsonOperator,
                    PlantTypes => "CREATE DOMAIN public.vector AS extensions.vector CHECK (public.record_call('domain vector')); " +
                                  "CREATE DOMAIN public.halfvec AS extensions.halfvec CHECK (public.record_call('domain halfvec'));",
                    _ => throw new ArgumentOutOfRangeException(nameof(plant), what, "Nothing to plant by that name."),
                });
            }
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }

        return db;
    }

    /// <summary>A data source of the application role, with the given search_path.</summary>
    public NpgsqlDataSource App(string searchPath) => Track(PgvectorDataSource.Create(ConnectionString(AppRole, searchPath)));

    /// <summary>How often each look-alike ran, by name.</summary>
    public async Task<Dictionary<string, long>> CallsAsync()
    {
        await using var command = Admin.CreateCommand("SELECT fn, count(*) FROM public.calls GROUP BY fn");
        await using var reader = await command.ExecuteReaderAsync();
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            calls[reader.GetString(0)] = reader.GetInt64(1);
        }

        return calls;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var dataSource in _dataSources)
        {
            await dataSource.DisposeAsync();
        }

        await using var server = NpgsqlDataSource.Create(_adminConnectionString);
        await TestRows.ExecuteAsync(server, $"DROP DATABASE IF EXISTS {Database} WITH (FORCE); DROP ROLE IF EXISTS {AppRole}; DROP ROLE IF EXISTS {AttackerRole}");
    }

    private string ConnectionString(string role, string searchPath) =>
        new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = Database, Username = role, Password = _password, SearchPath = searchPath }.ConnectionString;

    private NpgsqlDataSource Track(NpgsqlDataSource dataSource)
    {
        _dataSources.Add(dataSource);
        return dataSource;
    }

    // Same signatures as pgvector's own: in public, ahead of extensions on the search_path, an unqualified call resolves here.
    private static string FunctionsAndOperators(string type)
    {
        var sql = string.Create(CultureInfo.InvariantCulture, $"""
            CREATE FUNCTION public.l2_normalize(v extensions.{type}) RETURNS extensions.{type} LANGUAGE plpgsql
                AS $$BEGIN PERFORM public.record_call('l2_normalize({type})'); RETURN extensions.l2_normalize(v); END$$;
            CREATE FUNCTION public.subvector(v extensions.{type}, s int, n int) RETURNS extensions.{type} LANGUAGE plpgsql
                AS $$BEGIN PERFORM public.record_call('subvector({type})'); RETURN extensions.subvector(v, s, n); END$$;

            """);
        foreach (var (op, name, original) in new[] { ("<=>", "cosine", "cosine_distance"), ("<#>", "ip", type + "_negative_inner_product"), ("<->", "l2", "l2_distance") })
        {
            sql += $"""
                CREATE FUNCTION public.spy_{name}_{type}(a extensions.{type}, b extensions.{type}) RETURNS float8 LANGUAGE plpgsql
                    AS $$BEGIN PERFORM public.record_call('{op}({type})'); RETURN extensions.{original}(a, b); END$$;
                CREATE OPERATOR public.{op} (LEFTARG = extensions.{type}, RIGHTARG = extensions.{type}, FUNCTION = public.spy_{name}_{type});

                """;
        }

        return sql;
    }

    // jsonb #>> untyped literal: PostgreSQL takes the literal for jsonb and prefers an exact (jsonb, jsonb) match anywhere on the path.
    private const string JsonOperator = """
        CREATE FUNCTION public.spy_path(a jsonb, b jsonb) RETURNS text LANGUAGE plpgsql
            AS $$BEGIN PERFORM public.record_call('#>>(jsonb, jsonb)'); RETURN a #>> '{}'::text[]; END$$;
        CREATE OPERATOR public.#>> (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = public.spy_path);
        """;
}
