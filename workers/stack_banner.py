"""What `make run` prints once everything answers: where each part is, and where the keys are (never a
key)."""

from config.codec_keys import keys_location
from config.settings import Settings
from workers.dev_server import codec_endpoint, ui_origin


def metrics_endpoints(settings: Settings) -> list[str]:
    """Where the API's and the worker's Prometheus metrics are served, as the banner names them."""
    ports = [("API", settings.api_metrics_port), ("worker", settings.worker_metrics_port)]
    return [f"{who} http://{settings.metrics_host}:{port}/metrics" for who, port in ports if port is not None]


def banner(settings: Settings, key_where: str, database: str) -> str:
    api = f"http://{settings.api_host}:{settings.api_port}"
    return "\n".join(
        [
            "",
            "DVR Pathway Orchestrator is running",
            f"  API            {api}   (docs: {api}/docs)",
            f"  Temporal UI    {ui_origin(settings)}",
            f"  Codec server   {codec_endpoint(settings)}   (sign in there to see decoded history in the UI)",
            f"  Temporal gRPC  {settings.temporal_address}   task queue dvr-pathway",
            f"  PostgreSQL     {database}",
            *(
                [f"  Metrics        {', '.join(endpoints)}"]
                if (endpoints := metrics_endpoints(settings))
                else []
            ),
            f"  Profile        {settings.profile}",
            f"  API key        {key_where}",
            f"  Codec keys     {keys_location(settings)}",
            *(
                [f"  Play a patient {api}/demo/outbox   (asks for the API key once)"]
                if settings.profile == "demo"
                else []
            ),
            "  Ctrl-C stops everything.",
            "",
        ]
    )
