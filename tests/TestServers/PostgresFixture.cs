using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Testcontainers.PostgreSql;
using Xunit;

namespace Mrl.Adapters.Testing;

/// <summary>
/// A PostgreSQL server with pgvector for integration tests, and a fresh database on it for this fixture. Tried in order:
/// a connection string in <c>MRL_TEST_POSTGRES</c>; a <c>pgvector/pgvector:pg17</c> container when a Docker engine answers;
/// local PostgreSQL binaries (initdb, pg_ctl) where pgvector is installed; otherwise tests skip with the reason
/// (and fail when <c>CI=true</c>).
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    /// <summary>The environment variable that names an existing server.</summary>
    public const string ConnectionStringVariable = "MRL_TEST_POSTGRES";

    private PostgreSqlContainer? _container;
    private string? _localCluster;
    private string? _localBin;
    private string? _adminConnectionString;
    private string? _database;
    private int _tables;

    /// <summary>Why no server is available, or null when one is.</summary>
    public string? SkipReason { get; private set; }

    /// <summary>Where the server came from: <c>MRL_TEST_POSTGRES</c>, <c>testcontainers</c> or <c>local binaries</c>.</summary>
    public string? Source { get; private set; }

    /// <summary>A connection string to this fixture's own database, which has the vector extension.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>A data source with pgvector's types mapped, for this fixture's database.</summary>
    public NpgsqlDataSource DataSource { get; private set; } = null!;

    /// <summary>Skips the calling test when there is no server (fails it in CI).</summary>
    public void RequireServer()
    {
        if (SkipReason is not null)
        {
            TestEnvironment.SkipOrFail(SkipReason, requiredInCi: true);
        }
    }

    /// <summary>A table name no other test of this fixture uses.</summary>
    public string NewTableName(string prefix = "t") =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}_{Interlocked.Increment(ref _tables)}_{Guid.NewGuid().ToString("N")[..6]}");

    /// <summary>A connection string to the server's maintenance database, for tests that manage roles or databases.</summary>
    public string AdminConnectionString => _adminConnectionString ?? throw new InvalidOperationException(SkipReason);

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _adminConnectionString = Environment.GetEnvironmentVariable(ConnectionStringVariable) is { Length: > 0 } configured
            ? Use(configured, ConnectionStringVariable)
            : await TryContainerAsync().ConfigureAwait(false) ?? TryLocalBinaries();
        if (_adminConnectionString is null)
        {
            return;
        }

        _database = "mrl_test_" + Guid.NewGuid().ToString("N")[..10];
        await using (var admin = new NpgsqlConnection(_adminConnectionString))
        {
            await admin.OpenAsync().ConfigureAwait(false);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{_database}\"", admin);
            await create.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        ConnectionString = new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = _database, MaxPoolSize = 50 }.ConnectionString;
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync().ConfigureAwait(false);
            await using var extension = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS vector", connection);
            await extension.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        var builder = new NpgsqlDataSourceBuilder(ConnectionString);
        builder.UseVector();
        DataSource = builder.Build();
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (DataSource is not null)
        {
            await DataSource.DisposeAsync().ConfigureAwait(false);
        }

        if (_database is not null && _adminConnectionString is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(_adminConnectionString);
            await admin.OpenAsync().ConfigureAwait(false);
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        if (_container is not null)
        {
            await _container.DisposeAsync().ConfigureAwait(false);
        }

        if (_localCluster is not null)
        {
            Run(Path.Combine(_localBin!, "pg_ctl"), $"-D \"{_localCluster}/data\" -m immediate stop");
            Directory.Delete(_localCluster, recursive: true);
        }
    }

    private string Use(string connectionString, string source)
    {
        Source = source;
        return connectionString;
    }

    private async Task<string?> TryContainerAsync()
    {
        if (!TestEnvironment.DockerEngineLikely)
        {
            SkipReason = $"no PostgreSQL: {ConnectionStringVariable} is not set, no Docker engine answers (no /var/run/docker.sock, no DOCKER_HOST)";
            return null;
        }

        try
        {
            _container = new PostgreSqlBuilder("pgvector/pgvector:pg17").Build();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await _container.StartAsync(timeout.Token).ConfigureAwait(false);
            return Use(_container.GetConnectionString(), "testcontainers");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            SkipReason = $"no PostgreSQL: {ConnectionStringVariable} is not set and the pgvector container did not start ({e.GetType().Name}: {e.Message})";
            _container = null;
            return null;
        }
    }

    private string? TryLocalBinaries()
    {
        var bin = FindPostgresBin();
        if (bin is null)
        {
            SkipReason += "; no local initdb and pg_ctl found";
            return null;
        }

        if (Environment.UserName == "root")
        {
            SkipReason += $"; local binaries in {bin} exist, but initdb refuses to run as root";
            return null;
        }

        var pgConfig = Path.Combine(bin, "pg_config");
        var share = File.Exists(pgConfig) ? Run(pgConfig, "--sharedir").Trim() : "";
        if (!File.Exists(Path.Combine(share, "extension", "vector.control")))
        {
            SkipReason += $"; local PostgreSQL in {bin} has no pgvector";
            return null;
        }

        var dir = Directory.CreateTempSubdirectory("mrl-pg-").FullName;
        var port = FreePort();
        Run(Path.Combine(bin, "initdb"), $"-D \"{dir}/data\" -U postgres --auth=trust -E UTF8");
        Run(Path.Combine(bin, "pg_ctl"), $"-D \"{dir}/data\" -w -l \"{dir}/log\" -o \"-p {port} -k {dir} -c listen_addresses=127.0.0.1\" start");
        _localCluster = dir;
        _localBin = bin;
        SkipReason = null;
        return Use($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres", "local binaries");
    }

    private static string? FindPostgresBin()
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Concat(Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin")) : []);
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Run(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{file} {arguments} failed: {error}");
    }
}
