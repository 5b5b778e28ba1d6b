"""Browser pages served by the motcua server: the waiting-room wall display and the citizen's
phone status page. Plain HTML, CSS and JavaScript, no build step, no CDN."""
