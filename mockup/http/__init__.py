"""HTTP helpers shared by the HTML views and the JSON API (below both: it imports neither)."""
