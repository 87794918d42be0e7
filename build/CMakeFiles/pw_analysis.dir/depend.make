# Empty dependencies file for pw_analysis.
# This may be replaced when dependencies are built.
