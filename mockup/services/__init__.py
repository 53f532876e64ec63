"""The operations of the app. Views, the JSON API and job tasks all call these; each public function is
one operation with one commit, takes ids and plain values, and raises mockup.errors exceptions."""
