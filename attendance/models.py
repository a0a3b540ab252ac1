# This stage's models arrive with its issue; the app is installed so its place is fixed.
