//! `/feeds/news.atom`: the latest published posts as an Atom 1.0 feed with absolute links.

use atom_syndication::{Content, Entry, Feed, Link, Person, Text};
use chrono::Utc;
use entity::{news_post, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::error::AppResult;
use crate::notify::MailContext;
use crate::notify::render::markdown_to_safe_html;
use crate::values::is_allowed_char;

/// Text as XML 1.0 may carry it: the characters that input refuses ([`is_allowed_char`]: C0
/// controls but tab and line breaks, non-characters) are dropped, so rows written before that
/// check cannot make the feed ill-formed.
fn xml_text(text: &str) -> String {
    text.chars().filter(|c| is_allowed_char(*c)).collect()
}

/// How many posts the feed carries.
const FEED_ENTRIES: u64 = 50;

pub async fn news_feed(db: &impl ConnectionTrait, ctx: &MailContext) -> AppResult<String> {
    let posts = news_post::Entity::find()
        .filter(news_post::Column::PublishedAt.is_not_null())
        .order_by_desc(news_post::Column::PublishedAt)
        .limit(FEED_ENTRIES)
        .all(db)
        .await?;
    let authors: std::collections::HashMap<_, _> = user::Entity::find()
        .filter(user::Column::Id.is_in(posts.iter().map(|p| p.author_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let updated = posts
        .iter()
        .map(|p| p.updated_at)
        .max()
        .unwrap_or_else(Utc::now);
    let entries: Vec<Entry> = posts
        .iter()
        .map(|post| {
            let link = ctx.link(&format!("news/{}", post.id));
            Entry {
                id: format!("urn:uuid:{}", post.id),
                title: Text::plain(xml_text(&post.title)),
                updated: post.updated_at.fixed_offset(),
                published: post.published_at.map(|p| p.fixed_offset()),
                authors: vec![Person {
                    name: authors
                        .get(&post.author_id)
                        .map_or_else(|| "Digimentor".into(), |name| xml_text(name)),
                    ..Default::default()
                }],
                links: vec![Link {
                    href: link,
                    rel: "alternate".into(),
                    mime_type: Some("text/html".into()),
                    ..Default::default()
                }],
                content: Some(Content {
                    value: Some(xml_text(&markdown_to_safe_html(&post.body))),
                    content_type: Some("html".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }
        })
        .collect();
    let feed = Feed {
        id: ctx.link("feeds/news.atom"),
        title: Text::plain("Digimentor news"),
        updated: updated.fixed_offset(),
        links: vec![
            Link {
                href: ctx.link("feeds/news.atom"),
                rel: "self".into(),
                mime_type: Some("application/atom+xml".into()),
                ..Default::default()
            },
            Link {
                href: ctx.link("news"),
                rel: "alternate".into(),
                mime_type: Some("text/html".into()),
                ..Default::default()
            },
        ],
        entries,
        ..Default::default()
    };
    Ok(feed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_xml_forbids_are_dropped() {
        assert_eq!(
            xml_text("News \u{1} end\u{b}\u{1b}\u{fffe}\u{0}"),
            "News  end"
        );
        assert_eq!(xml_text("tab\tline\nä🙂"), "tab\tline\nä🙂");
    }
}
