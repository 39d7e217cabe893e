"""What a campaign has achieved: snapshots, summaries, figures, the HTML report, live progress."""

__all__: list[str] = []
