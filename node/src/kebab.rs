//! `kebab_enum!`: a closed set of words that travel as kebab-case text
//! (`dual-use`, `diversion-suspected`): the enum, `ALL`, `as_str`, a
//! `FromStr` whose error lists every accepted word, and `Display`. Records,
//! licensing and consultations all name their categories this way, so a
//! word reads the same on the wire, in the store, in the CLI and in errors.

macro_rules! kebab_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let all: Vec<_> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown {} {s:?}; expected one of {}", stringify!($name), all.join(", "))
                })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use kebab_enum;
