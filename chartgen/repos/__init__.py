"""One Pusher per kind of chart repository, chosen from the repository URL (see chartgen.publish)."""
