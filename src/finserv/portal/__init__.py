"""Site setup: language, navigation, roles and groups, demo content, policies and news."""
